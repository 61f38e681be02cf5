#!/usr/bin/env bash
# Role-play on the bundled model: every scenario, the same three turns; sources of partner lines and rewrites.
# Usage: bash eval/measure/practice_roleplay.sh   (bundled model; about 4 minutes on 2 cores)
set -euo pipefail
export ATTUNE_HOME=$(mktemp -d) OUT=$(mktemp -d)
for id in $(attune practice --list --json | python -c "import json,sys; print(' '.join(r['id'] for r in json.load(sys.stdin)))"); do
  /usr/bin/time -f "%e" -o $OUT/t.$id attune practice --scenario "$id" \
    --say "You never listen to me and you are so selfish. This is all your fault." \
    --say "I feel hurt about this, and I'd like us to find a way to talk about it." \
    --say "I can see this has been hard for you too. What has it been like on your side?" --json > $OUT/m.$id.json
done
python - "$OUT" <<'PY'
import json, glob, collections, sys
out = sys.argv[1]
c = collections.Counter(); rw = collections.Counter(); better = 0; n = 0; times = []
for f in sorted(glob.glob(f'{out}/m.*.json')):
    d = json.load(open(f)); sid = f.split('/m.')[1][:-5]
    times.append(float(open(f'{out}/t.{sid}').read().split()[-1]))
    for t in d['turns']:
        n += 1; c[t['partner_source']] += 1; rw[t['rewrite_source']] += 1
    print(sid, [t['partner_move'] for t in d['turns']], [t['partner_source'] for t in d['turns']], d['state']['label'])
print('turns', n, 'partner sources', dict(c), 'rewrite sources', dict(rw))
print('seconds per 3-turn run (process incl. load): median', sorted(times)[len(times)//2], 'max', max(times))
PY
