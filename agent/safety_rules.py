"""The safety check's rules: what a disclosure of danger looks like, sentence by sentence, each pattern naming the
words that fired it, with negations, play, hyperbole and what was agreed let through.

`agent.safety` runs them first and backs them with a learned classifier; `attune eval safety` measures both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Category = Literal["self_harm", "partner_violence", "harm_to_others", "child_abuse"]

_AGENT = (
    r"(?:he|she|they|him|her|my (?:(?:new|current|old|former|late|own) )?"
    r"(?:partner|husband|wife|boyfriend|girlfriend|fianc[ée]e?|spouse|ex|"
    r"(?:ex|first|former)[- ]?(?:husband|wife|boyfriend|girlfriend|partner)|mother|mum|mom|father|dad|stepdad|"
    r"stepfather|stepmum|stepmom|stepmother|brother|sister|uncle|aunt|cousin|grandfather|grandad|flatmate|roommate|"
    r"(?:mum|mom)'s boyfriend))"
)
_CHILD = (
    r"(?:my|our|the|his|her) (?:kids?|child(?:ren)?|son|daughter|baby|toddler|little (?:brother|sister|one)|"
    r"stepson|stepdaughter|boy|girl)"
)
_BODY = (
    r"(?:me|my (?:head|face|arm|arms|neck|throat|body|back|chest|stomach|leg|legs|hair|wrist|eye|nose|ribs?|jaw|"
    r"teeth|tooth|fingers?|hand|shoulder))"
)
# Verbs of physical violence, as a partner or relative would be said to use them on someone.
_VIOLENCE = (
    r"(?:hit|hits|hitting|punch(?:es|ed|ing)?|slap(?:s|ped|ping)?|smack(?:s|ed|ing)?|kick(?:s|ed|ing)?|"
    r"chok(?:e|es|ed|ing)|strangl(?:e|es|ed|ing)|beat(?:s|ing)?|beaten|shov(?:e|es|ed|ing)|slam(?:s|med|ming)|"
    r"whip(?:s|ped|ping)?|burn(?:s|ed|t)?|bit|bites|drag(?:s|ged)|pin(?:s|ned) (?:me )?down|throttl(?:e|es|ed)|"
    r"stab(?:s|bed)?|attack(?:s|ed)|assault(?:s|ed)|rap(?:e|es|ed)|molest(?:s|ed)?|abus(?:e|es|ed|ing)|"
    r"grab(?:s|bed)? (?:me )?by the (?:throat|neck|hair|arm)|push(?:es|ed)? me (?:down|into|against|over|off)|"
    r"thr(?:ew|ows?) (?:\w+ ){0,2}at|hurl(?:s|ed)? (?:\w+ ){0,2}at|twist(?:s|ed)|spat on|spit(?:s)? on|"
    r"pin(?:s|ned) (?:me )?(?:against|to)|pull(?:s|ed) (?:me|my) (?:by|hair)|bang(?:s|ed)|sho(?:ot|t) at|"
    r"broke(?! up)|breaks(?! up)|cracked|bruised|injur(?:e|es|ed)|wound(?:s|ed)|scratch(?:es|ed)|pinch(?:es|ed)|"
    r"sexually assault(?:s|ed)?|touch(?:es|ed) (?:me )?(?:without|when i)|strike|strikes|struck|batter(?:s|ed))"
)
# "Then says he was only playing" is the excuse of someone who hurts, not play.
_EXCUSE = re.compile(
    r"\b(?:says?|said|claims?|claimed|tells? me|told me|calls? it|called it) (?:that )?(?:(?:he|she|they|it)"
    r"(?:'s| was| is| were| are|'re)? )?(?:only |just )?(?:playing|joking|a joke|messing|teasing|play-?fighting)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:never|not|n't|\w+n't)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:never|not|n't|wouldn't|won't|didn't|doesn't|don't)\s+(?:\w+\s+){0,2}$", re.I)
# Play, games and hyperbole: "beat me at chess", "a pillow fight", "I want to strangle him every time he ...".
_PLAY = re.compile(
    r"\b(?:pillow ?fights?|chess|tennis|cards|poker|scrabble|game|games|mario|football|race|match|played|playing|"
    r"play-?fight|"
    r"tickl\w*|jok(?:e|es|ing)|(?:we|both of us|everyone) (?:\w+ )?laugh\w*|silly|teas\w*|every time|killed it|"
    r"killing it|the mood|"
    r"knocked me (?:out|off my feet) with|(?:going to|gonna|will|'ll) (?:kill|murder) me (?:when|if) (?:he|she|they) "
    r"(?:finds?|sees?|hears?)|"
    r"snowballs?|playful\w*|water fight|kill it|haha|lol|by mistake|by accident|when i ask (?:him|her|them) to|"
    r"we (?:both )?(?:agreed|decided|chose)|i asked (?:him|her|them) to|beat (?:me|us) (?:at|in))\b",
    re.IGNORECASE,
)

PATTERNS: dict[Category, tuple[str, ...]] = {
    "self_harm": (
        r"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|hang|hanging|shoot|drown|poison) myself\b",
        r"\bsuicidal\b|\b(?:thinking|thought|think) (?:about|of) (?:suicide|dying|killing myself)\b",
        r"\bsuicide (?:plan|note)\b|\bi(?:'ve| have)? (?:attempted|tried to commit|considered|contemplated) suicide\b",
        r"\bend(?:ing)? (?:my (?:own )?life|it all)\b|\b(?:take|took|tried to take) my (?:own )?life\b",
        r"\b(?:want|wanted|wish) to die\b(?! (?:of|laughing|when))",
        r"\bdon'?t want to (?:live|be alive|be here|exist) any ?more\b",
        r"\b(?:except|but|other than|than) (?:not|to stop) (?:existing|being alive|being here)\b"
        r"|\b(?:stop|not) existing(?: any ?more)?\b(?! (?:as|in|for|at) )",
        r"\bbetter off (?:if i were |if i was )?(?:dead|without me)\b|\bbetter off not (?:in this world|alive|here)\b",
        r"\b(?:never|not) (?:to )?wake up\b",
        r"\bself[- ]harm\w*\b|\bslit my wrists?\b|\bi (?:overdosed|took an overdose|want to overdose)\b",
        r"\b(?:jump|jumping) (?:off|from) (?:the|a) (?:bridge|roof|building|balcony|cliff)\b",
        r"\b(?:jump|step|stepping) in front of (?:a|the) (?:train|bus|car)\b",
        r"\bpills? saved\b|\bsaved up (?:pills|tablets)\b|\b(?:bought|got|have) (?:a )?rope\b",
        r"\bgoodbye (?:letters?|notes?)\b|\bgiving (?:my|all my) (?:things|stuff|belongings) away\b",
        r"\b(?:no|any) reason to (?:keep going|go on|live)\b|\bcan'?t go on\b|\bwant the pain to stop for good\b",
        r"\b(?:nobody|no one|no-one) would (?:even )?(?:notice|care|miss me) if i (?:died|was gone|were gone|"
        r"disappeared|wasn'?t here)\b|\bdisappear(?:ed)? for good\b",
        r"\b(?:i have|i've got|i made) a plan\b(?=.*\b(?:die|dying|death|suicide|end it)\b)"
        r"|\b(?:die|dying|death|suicide)\b(?=.*\b(?:i have|i've got|i made) a plan\b)",
        r"\bi used to cut\b|\burge to cut\b",
        r"\b(?:overdose|od) on\b|\bhow many (?:pills|tablets|sleeping pills)\b|\bhow to (?:kill myself|die|end it)\b",
        r"\b(?:burn|burning|burned|burnt|scratch|scratching|starv\w+|punish\w*) myself\b",
        r"\b(?:tried|try|trying|want|going) to (?:kill|hurt|harm) myself\b|\b(?:kill|killed) myself\b",
    ),
    "child_abuse": (
        rf"\b{_AGENT}\b(?:\W+\w+){{0,4}}?\W+{_VIOLENCE}\W+(?:\w+\W+){{0,2}}?{_CHILD}\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+(?:touch(?:es|ed)?|hurts?) (?:{_CHILD}|me and {_CHILD})\b",
        rf"\b(?:sexually |physically )?abus(?:e|es|ed|ing) {_CHILD}\b",
        r"\b(?:i was|i got) (?:sexually |physically )?(?:abused|molested|beaten|raped)\b.*\b(?:child|kid|young|"
        r"little|growing up|teen)\b|\b(?:i was|i got) (?:sexually )?(?:abused|molested) (?:as a|when i was)\b",
        r"\bmolested by\b|\babused emotionally all of my life\b",
        r"\b(?:when i was (?:little|a kid|a child|young|small)|as a (?:kid|child)|growing up)\b.*\b(?:\w+ )?"
        rf"{_VIOLENCE} me\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+{_VIOLENCE} me\b.*\bwhen i was (?:little|a kid|a child|young|small)\b",
        r"\bi'?m (?:1[0-7]|[5-9]) and (?:my|our) \w+ (?:\w+ )?(?:hits|beats|hurts|touches|kicks|slaps) me\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+{_VIOLENCE}\W+(?:my|our|the|his|her) "
        r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[- ](?:year|month)[- ]old\b",
        r"\b(?:abused|molested|raped|beat|hit|touched) me when i was "
        r"(?:\d+|little|small|young|a (?:kid|child|boy|girl)|five|six|seven|eight|nine|ten|eleven|twelve|"
        r"thirteen|fourteen|fifteen)\b",
        r"\b(?:stepdad|stepfather|uncle|dad|father|grandfather|grandad|(?:mum|mom)'s boyfriend) touches me\b",
        r"\btouch(?:es|ed)? me and (?:tells|told) me not to tell\b",
        r"\b(?:uncle|stepdad|stepfather|father|dad|grandfather|cousin|(?:mum|mom)'s boyfriend) "
        r"(?:comes|came) into my (?:room|bed) at night\b|\bdoes things to me\b",
    ),
    "partner_violence": (
        rf"\b{_AGENT}\b(?:\W+\w+){{0,4}}?\W+{_VIOLENCE}\W+(?:\w+\W+){{0,2}}?{_BODY}\b(?! out of\b)",
        r"\b(?:i was|i've been|i got|i have been|i'?m being|i am being) (?:\w+ )?(?:hit|beaten|choked|strangled|raped|"
        rf"attacked|assaulted|kicked|punched|slapped|abused|hurt|threatened|stalked) by {_AGENT}\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+(?:forced|forces|makes|made|make) me (?:to )?"
        r"(?:have sex|do sexual|do things)",
        r"\bhave sex with (?:him|her|them) even when i (?:cry|say no|don'?t want|do not want)\b|\bwithout my consent\b",
        r"\bthreaten(?:s|ed|ing)? (?:to (?:kill|hurt|harm|beat|burn|take the kids)|"
        r"me with (?:a )?(?:knife|gun|weapon))\b",
        r"\b(?:said|says|told me) (?:he|she|they)(?:'d|'ll| would| will) (?:kill|hurt|harm|beat|burn)\b",
        # "will kill me" is a threat; "is going to kill me when she finds out" is a figure of speech.
        rf"\b{_AGENT}\b(?:\W+\w+){{0,2}}?\W+(?:will|'ll|would|'d) (?:kill|hurt|harm) (?:me|my (?:dog|cat|pet))\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+(?:push(?:es|ed)?|shov(?:e|es|ed)|thr(?:ew|ows?)) me "
        r"(?:down|into|against|over|off|out)\b",
        rf"\b{_AGENT}\b(?:\W+\w+){{0,3}}?\W+grab(?:s|bed)? me by the (?:throat|neck|hair)\b",
        r"\b(?:won'?t|doesn'?t|don'?t) let me (?:leave|go out|see (?:my )?(?:friends|family|sister|brother|mum|mom|"
        r"parents)|have (?:my own )?(?:money|a phone)|work)\b|\bnot allowed to (?:see|leave|go out|talk to|have)\b",
        r"\b(?:takes|took|keeps|kept|locks?|locked|hid(?:es)?|hidden) (?:away )?(?:my|our) (?:phone|bank card|money|"
        r"keys|passports?|documents)\b(?=.*\b(?:can'?t|couldn'?t|so i|won'?t|never|away|locked)\b)",
        r"\b(?:smashed|broke|took) my phone so i (?:couldn'?t|can'?t)\b|\bst(?:ood|ands) in front of the door\b",
        r"\blocks? me (?:in|out)\b|\btracks? my (?:location|phone|car)\b|\b(?:air ?tag|tracker|gps tracker) (?:on|in|"
        r"under) my\b|\block myself in\b",
        # Coercive control and fear, as danger-assessment screens ask about them.
        r"\b(?:post|share|send|leak) my (?:nudes|naked (?:photos|pictures)|intimate (?:photos|pictures|videos))\b",
        r"\b(?:ask|asking|need) (?:his|her|their) permission to (?:buy|go|see|spend|leave|eat)\b|\bask permission to\b",
        r"\bhand over my (?:pay ?check|wages|salary|money|card)\b",
        r"\bsafer (?:than being|in the car|to sleep|away from)\b|\bnot safe (?:at home|with (?:him|her|them))\b",
        r"\b(?:if|when)\b.*\bi (?:pay for it|get punished|get hurt)\b",
        r"\bwalk(?:ing)? on eggshells\b(?=.*\b(?:afraid|scared|hurt|violent|what (?:he|she|they)(?:'ll| will)? do)\b)",
        r"\b(?:get|getting|run) away from (?:him|her|them) (?:fast|quickly)\b|\bescape from (?:him|her|them)\b",
        r"\b(?:afraid|scared|terrified|frightened) (?:of (?:him|her|them|my (?:partner|husband|wife|boyfriend|"
        r"girlfriend|ex))\b(?!'s (?!temper|anger|rage|mood|fist|drinking|threat|reaction|violence|hands))|(?:to go|"
        r"of going) home|for my (?:life|safety)|of what (?:he|she|they)(?:'ll| will)? do)",
        r"\b(?:he|she|they|partner|husband|wife|boyfriend|girlfriend) (?:\w+ )?(?:gets?|got|becomes?|became) "
        r"(?:violent|rough with me|physical with me)\b",
        r"\babusive (?:relationship|partner|husband|wife|boyfriend|girlfriend|marriage|situation)\b"
        r"|\b(?:is|was) abusive\b",
        r"\bdomestic (?:violence|abuse)\b|\bharass(?:ing|es)? and stalk\w*\b|\bstalking me\b",
        r"\b(?:black eye|bruises|bruised|broken (?:rib|ribs|arm|nose|wrist|jaw)|split lip)\b(?=.*\b(?:he|she|they|"
        r"boyfriend|girlfriend|husband|wife|partner|ex|told|cover|makeup|door|fell|hide)\b)",
        r"\bcover(?:ing)? (?:up )?(?:the |my )?bruises\b|\bfell down the stairs, but\b"
        r"|\bit wasn'?t really (?:an accident|that)\b",
        r"\bcontrols? (?:all )?(?:of )?(?:my|our) money\b(?=.*\b(?:furious|angry|allowance|won'?t|punish)\b)",
        r"\bnever see the kids again\b(?=.*\b(?:scary|call anyone|threat|hurt)\b)",
    ),
    "harm_to_others": (
        # Intent, not worry: "afraid that I will hurt him" after his surgery is care, so bare "will" is not enough.
        r"\bi(?:'m| am)? (?:going to|gonna|want to) (?:hit|hurt|harm|kill|stab|beat|strangle|choke|shoot) "
        r"(?:him|her|them|my \w+)\b",
        r"\bi (?:hit|punched|slapped|kicked|choked|shoved|pushed|strangled) (?:my (?:wife|husband|partner|boyfriend|"
        r"girlfriend|kids?|child|son|daughter)|him|her)\b(?! (?:up|back) (?:for|with))",
        r"\b(?:imagin\w+|fantasi\w+|thinking about|think about) (?:running \w+ over|killing|hurting|stabbing|"
        r"shooting) (?:him|her|them|my \w+)\b",
        r"\bbeat (?:him|her|them|my \w+) up\b|\bmight (?:actually )?do it\b",
        r"\b(?:getting|get|got|bought) a (?:knife|gun|weapon)\b|\bplanning how to (?:hurt|kill)\b"
        r"|\bbeen planning how\b",
        r"\b(?:afraid|scared) (?:i'?m going to|i'?ll|i will) (?:hurt|hit) (?:\w+ ){0,2}when i (?:lose my temper|"
        r"get angry)\b|\b(?:scared|afraid) i'?ll do it again\b|\b(?:starting to|start to) get violent\b",
        r"\bpunched holes in\b",
    ),
}
# What the rules above miss most often is said without a word of violence: coercive control (money, phone,
# location, isolation, sleep, medication, sex), intimidation, threats about leaving, hidden injuries, fear, and
# intent or preparation for self-harm. These patterns name such acts by their shape (who does what to what), as
# danger-assessment and coercive-control screens ask about them, not by one message's wording.
_PRIVATE = (
    r"(?:messages|texts|emails?|e-mails?|phone|diary|journal|dms|chats|whatsapps?|calls?|call logs?|browser "
    r"history|post|mail|location|whereabouts|social media|bank (?:statements|account)|search history)"
)
_MONEY = (
    r"(?:whole |entire |all (?:of )?(?:my )?)?(?:salary|wages|pay|pay ?check|pay ?cheque|earnings|benefits|bank "
    r"cards?|cards|money|savings|passports?|documents|papers|id|car keys|keys|phone|wallet|purse)"
)
_SOMEONE = (
    r"\b(?:he|she|they|my (?:\w+ ){0,2}(?:partner|husband|wife|boyfriend|girlfriend|bf|gf|fianc\w*|spouse|ex|mum|mom|"
    r"dad|father|mother|stepdad|stepfather|stepmum|stepmom|brother|sister|son|daughter|flatmate|roommate))\b"
)
_WEAPON = r"(?:knife|knives|gun|pistol|rifle|shotgun|machete|axe|hammer|bat|weapon|blade)"
EXTRA_PATTERNS: dict[Category, tuple[str, ...]] = {
    "partner_violence": (
        # Physical harm said in other words, and what it leaves behind.
        rf"(?:{_SOMEONE}|\b(?:things?|arguments?|fights?))(?:'s| has| have| had)? (?:\w+ ){{0,2}}(?:gets?|got|gotten|"
        r"turns?|turned|becomes?|became|can get|end(?:s|ed)? up) (?:\w+ )?(?:physical|rough|violent|handsy in a bad "
        r"way)\b(?! with (?:the|a|an|his|her|their)\b)|\bit(?:'s| has| had)? (?:\w+ ){0,2}(?:gets?|got|gotten|turns?|"
        r"turned|becomes?|became) (?:\w+ )?"
        r"(?:physical|violent)\b",
        r"\b(?:arguments?|fights?|it|things) (?:usually |often |always |sometimes )?end(?:s|ed)? (?:up )?with me "
        r"(?:on the floor|bleeding|hurt|in (?:hospital|a&e|the er)|crying on the floor)\b",
        # Someone (never "I") does it to me; a "never" or "didn't" on the way lets it through.
        rf"{_SOMEONE}(?:\W+(?!never\b|not\b|\w+n'?t\b)\w+){{0,8}}?\W+(?:"
        r"(?:slap(?:s|ped|ping)?|punch(?:es|ed|ing)?|kick(?:s|ed|ing)?|chok(?:es|ed|ing)|strangl(?:es|ed|ing)|beats|"
        r"shov(?:es|ed|ing)|smack(?:s|ed|ing)?|bit|bites|spits? (?:in|at)|spat (?:in|at)|sits on|sat on) "
        r"(?:me|my (?:face|neck|throat|head|arms?|wrists?|hair))\b(?! out\b)(?! (?:to|a|in|at) (?:the )?(?:game|"
        r"games|chess|"
        r"cards|race|it|dinner|lunch)\b)"
        r"|(?:tied|ties|pins|pinned|holds|held|thr(?:ew|ows)|dragg?(?:s|ed)|squeez(?:es|ed)|grab(?:s|bed)) "
        r"(?:me|my (?:face|neck|throat|head|arms?|wrists?|hair)) (?:\w+ )?(?:down|against|by|into|onto|across|under|to "
        r"the|so hard|hard|until|up)\b)",
        r"\b(?:squeez\w+|press\w*|hands?) (?:on |around |round )?my (?:neck|throat)\b"
        r"|\b(?:pillow|hand|hands) over my (?:face|mouth)\b|\buntil i (?:passed out|blacked out|saw spots|couldn'?t "
        r"breathe|stopped (?:struggling|breathing)|almost passed out)\b|\bwouldn'?t let me breathe\b"
        r"|\b(?:so hard|hard enough) (?:that )?(?:it|they|to) (?:left|leave|bruised|bled|bruise)\b",
        rf"\bthreaten\w* me with (?:a |an |his |her |the )?(?:\w+ )?{_WEAPON}\b|\bpoints? (?:a |his |her |the )?"
        rf"(?:\w+ )?{_WEAPON} at me\b|\bsex with me (?:while|when) i (?:was|am|'m) (?:passed out|asleep|"
        r"unconscious|drunk|sleeping)\b|\bhurts? me physically\b|\bphysically hurts? me\b"
        r"|\block(?:s|ed)? me out of the (?:house|flat|home)\b.*\b(?:night|cold|hours|rain)\b",
        rf"\b{_WEAPON} (?:to|against|at) my (?:throat|neck|head|face|chest|stomach)\b",
        r"\bforc(?:es|ed) (?:himself|herself|themselves) on me\b|\btie[sd]? me up\b|\btied me to\b",
        rf"{_SOMEONE} (?:\w+ ){{0,2}}hurt(?:s)? me (?:again|physically|badly|last night|every|when (?:he|she|they)"
        r"(?:'s| is| are|'re| gets?| get) (?:angry|drunk|mad|furious|drinking))\b|\b(?:covered in|full of) bruises\b"
        r"|\blucky (?:he|she|they) (?:hasn'?t|didn'?t|haven'?t) (?:done worse|killed|hurt)\b|\b(?:makes?|made) me "
        r"kneel\b|\b(?:he|she|they)(?:'ll|'d| will| would| could) make me disappear\b|\bin case i (?:have|need) to "
        r"(?:leave|run|get out) (?:quickly|fast|in a hurry)\b",
        rf"{_SOMEONE} (?:\w+ ){{0,2}}(?:scares|frightens|terrifies) me\b.*\bwhen (?:he|she|they)(?:'s| is| are| "
        r"gets?)? "
        r"(?:drunk|drinks|drinking|angry|mad|in a (?:mood|rage)|raging|high)\b"
        rf"|\b(?:afraid|scared|terrified|worried|think|fear) (?:that )?{_SOMEONE}(?:'ll| will| might| is going to| "
        r"could|"
        r" would) (?:\w+ )?(?:hurt|kill) me\b|\b(?:broke|kicked|smashed|bashed) (?:\w+ ){0,2}doors? (?:down|in)\b",
        r"\b(?:don'?t|do not|no longer|never) feel safe (?:in my (?:own )?(?:home|house|flat|bed)|at home|with (?:him|"
        r"her|them|my \w+)|around (?:him|her|them|my \w+))\b|\bescape (?:him|her|them)\b|\b(?:he|she|they)(?:'ll|'d| "
        r"will| would) end me\b|\bwants? me dead\b",
        r"\b(?:standing|stood|stands) over me\b|\bknows? where my (?:parents|family|mum|mom|dad|kids|children|sister|"
        r"brother|friends) (?:live|lives|work|works|go to school)\b|\b(?:makes?|made) me (?:eat|sleep|kneel|stand|beg)"
        r" (?:off|on) the floor\b|\bi (?:have|had) to beg (?:\w+ )?for (?:money|food|permission)\b"
        r"|\bwith me (?:in it|inside)\b|\b(?:deport\w*|immigration|my visa)\b.*\b(?:if i|unless i|angry|call the "
        r"police|without (?:him|her))\b|\b(?:if i|unless i)\b.*\b(?:deport\w*|immigration)\b"
        r"|\bthreaten\w* to (?:tell|out|expose|report) (?:me to )?(?:my|the) (?:church|family|parents|boss|work|"
        r"employer|community|mosque|school)\b",
        # Hidden injuries.
        r"\b(?:long sleeves|make-?up|concealer|sunglasses|scarf|scarves|turtlenecks?|polo necks?|foundation)\b"
        r".*\b(?:hide|hides|hiding|cover|covers|covering|so (?:no ?one|nobody|people|my \w+|they|others) "
        r"(?:don'?t|won'?t|can'?t)? ?(?:ask|see|notice))\b"
        r"|\bafter (?:our|the|a) (?:fights?|arguments?)\b.*\b(?:long sleeves|make-?up|sunglasses)\b"
        r"|\b(?:cover|hide|covering|hiding) (?:up )?(?:the )?(?:marks|bruises)\b",
        r"\b(?:walked|walk|walking|ran|bumped) into (?:a|the) (?:door|cupboard|wall|doorframe)\b"
        r"|\bexcuses?\b.*\bfor (?:the )?(?:marks|bruises|cuts|black eye)\b"
        r"|\b(?:make|made|making) up (?:a )?(?:story|stories|excuses?) (?:about|for) (?:\w+ ){0,4}(?:face|marks|"
        r"bruises?|arm|eye|lip)\b|\bmy face was (?:swollen|bruised|cut)\b|\bmarks on my (?:arms?|neck|legs?|back|"
        r"face|wrists?)\b",
        # Intimidation: blocking, cornering, weapons kept in view, hurting pets or things as a warning.
        r"\b(?:corner(?:s|ed)?|trap(?:s|ped)?) me\b|\bblock(?:s|ed)? (?:the|my) (?:door|doorway|way out|exit|car)\b"
        r"|\bso i (?:can'?t|couldn'?t|cannot|could not) (?:leave|get out|escape|call (?:anyone|for help|the police)|"
        r"contact (?:anyone|my|the)|get help|reach (?:anyone|my))\b|\b(?:and|so) i can'?t get out\b(?! of bed)",
        r"\b(?:punch(?:es|ed)?|hit(?:s)?|kick(?:s|ed)?|smash(?:es|ed)?|slam(?:s|med)?) (?:a hole in )?(?:a |the )?"
        r"(?:wall|walls|door|"
        r"doors|table|window) (?:right )?(?:next to|beside|near|by|behind|inches from) (?:me|my (?:head|face))\b"
        r"|\bnext time it won'?t be the\b|\bsays? i'?m next\b|\bi'?m next\b",
        rf"\b(?:keeps?|kept|has|sleeps with|showed|shows|reminds? me|waves?|waved|puts?|put|leaves?) (?:\w+ ){{0,3}}"
        rf"{_WEAPON}\b.*\b(?:when (?:we|i)|if i|reminds? me|for me|at me|argue|argument|fight|cheat|talk about|"
        r"it'?s there)\b",
        r"\b(?:hurt|hurts|kill(?:s|ed)?|drown(?:s|ed)?|kick(?:s|ed)?|poison(?:s|ed)?|starv\w+|throw|threw|hit|"
        r"beat|beats) (?:the|my|our) (?:dog|cat|pets?|puppy|kitten|rabbit|bird)\b.*\b(?:me|i|if)\b",
        # Threats, most of all about leaving, telling or taking the children.
        r"\bif i (?:ever )?(?:try to |tried to |dare to )?(?:leave|left|go to the police|call the police|tell "
        r"(?:anyone|someone|anybody|my \w+)|report (?:him|her|them|it)|break up|broke up|divorce|don'?t do what)"
        r"(?: (?:him|her|them|the (?:house|relationship|marriage)|home))?\b(?! (?:the|my|a|an|work|early|it|for)\b)"
        r".{0,80}\b(?:he|she|they)(?:'ll|'d| will| would| is going to| are going to| can| could)\b",
        r"\b(?:he|she|they)(?:'ll|'d| will| would) (?:make sure i never|take the (?:kids|children)|ruin my|find me|"
        r"break my|come after me|leave me with nothing|have me (?:deported|sectioned|arrested)|tell (?:social "
        r"services|immigration|the police|everyone))\b",
        r"\b(?:post|share|send|leak|show|put|upload|spread)(?:s|ed|ing)? (?:\w+ ){0,2}(?:private|intimate|naked|"
        r"nude|sex|explicit) (?:photos?|pictures?|pics|videos?|tapes?|images?)\b"
        r"|\b(?:private|intimate|naked|nude) (?:photos?|pictures?|pics|videos?) of me\b",
        r"\bno ?one (?:would|will|is going to) (?:ever )?believe me\b|\bnobody (?:would |will )?(?:ever )?believes? "
        r"me\b|\btells? (?:people|everyone|my \w+) i'?m (?:unstable|crazy|mad|insane|a liar)\b",
        # Monitoring and stalking.
        rf"\b(?:reads?|goes through|went through|checks|checked|looks through|monitors|monitored|scrolls? through|"
        rf"searches|listens to) (?:all (?:of )?|every one of |each of )?my {_PRIVATE}\b.*\b(?:every|all|each|"
        r"deletes?|quotes?|accuses?|so (?:he|she|they)|if i|when i|and (?:gets|shouts|screams|yells)|"
        r"without|always|hour|minute)\b",
        r"\b(?:install(?:s|ed)?|put|puts|hid|hides|planted|set up) (?:an? |the )?(?:app|tracker|tracking \w+|"
        r"cameras?|spyware|gps|air ?tag|recorder|microphone)\b.*\b(?:me|my|what i|where i|watch|see|listen)\b",
        r"\b(?:i have to|i must|makes me|made me|forces me to|i need to) (?:\w+ ){0,2}(?:send (?:him|her|them) "
        r"(?:a )?(?:photos?|pictures?|selfies?|my location)|video ?call|share my location|check in with "
        r"(?:him|her|them) every|account for every|explain (?:every|each)|show (?:him|her|them|my \w+) (?:every|"
        r"each|all)|hand over|ask (?:him|her|them|permission) (?:before|to|for|if)|text (?:him|her|them) every)\b",
        r"\b(?:follows?|followed|following|stalks?|stalked|stalking) me\b(?! around the (?:shop|supermarket|house|"
        r"kitchen|store))(?! on \w+)(?! on (?:instagram|twitter|tiktok|social|"
        r"facebook|every|all|x\b))(?:.*\b(?:to|when|from|everywhere|around|room|home|work|car|watch|outside|sits|"
        r"waits)\b)?"
        r"|\b(?:keeps?|kept) (?:showing|turning) up at my\b|\b(?:turned|turns|shows?|showed) up (?:at (?:\S+ ){1,3})?"
        r"(?:uninvited |unannounced )?(?:because|when|if) my (?:location|phone)\b|\bfind me wherever\b"
        r"|\bwaits? (?:outside|by the door)\b.*\b(?:badly|scared|angry|late|know)\b",
        r"\bif i(?:'m| am) (?:\w+ ){0,3}late\b.*\b(?:smash|hurt|badly|scared|punish|pay for|hit|blocks?)\w*\b",
        # Money, isolation, sleep, medication, body.
        rf"(?<!\bi )\b(?:takes|took|keeps|kept|collects|collected|controls|holds|confiscat\w+|locks? up|locked up) "
        rf"(?:away )?(?:all (?:of )?)?my {_MONEY}\b(?! ?(?:charger|case|cable|number|at night|at bedtime|when we))",
        r"\b(?:gives?|gave) me (?:an? )?(?:allowance|pocket money|\w+ (?:pounds|dollars|euros|quid|bucks|rand|"
        r"rupees) a (?:week|month|day))\b|\bevery (?:penny|cent|pound|dollar|receipt)\b",
        r"\bchanged (?:all )?(?:the )?passwords?\b.*\bso i (?:can'?t|couldn'?t)\b|\bwon'?t let me (?:get|have|keep|"
        r"open|take) (?:a job|my own|a bank|any money|a car|a phone)\b|\bput (?:all )?(?:the )?(?:bills|debts?|"
        r"loans?) in my name\b",
        r"\b(?:won'?t|doesn'?t|don'?t|didn'?t|wouldn'?t) (?:let|allow) me (?:to )?(?:see|visit|call|talk to|go|"
        r"leave|eat|wear|drive(?! (?:his|her|their|the new))|work|have friends|use (?:my|our|the car))\b|\b(?:he|she|"
        r"they) (?:won'?t|doesn'?t|"
        r"didn'?t|wouldn'?t) let me sleep\b|\bi(?:'?m| am) not (?:allowed|permitted) to (?:see|"
        r"visit|talk to|call|go (?:out|anywhere|to)|leave|have (?:friends|money|a phone|my own)|work|wear|drive|eat|"
        r"spend|text|contact|speak)\b",
        r"\b(?:cut|cuts|cutting) me off from (?:all )?(?:my |our )?(?:friends|family|everyone|people|the world|"
        r"my (?:mum|mom|dad|parents|sister|brother|kids))\b|\bisolat(?:es|ed|ing) me\b|\b(?:made|makes|make) me "
        r"(?:stop|quit|give "
        r"up) (?:(?:seeing|talking to|calling|visiting) )?my (?:friends|job|family|mum|mom|dad|parents|sister|"
        r"brother)\b|\b(?:heard|hear) from me\b.*\bbecause "
        r"(?:he|she|they)\b|\bthere'?s (?:no ?one|nobody) left\b",
        r"\bkeeps? me (?:awake|up) (?:all night|for hours|until)\b(?=.*\b(?:yell|shout|scream|until|question|"
        r"argu|apologi))|\bdidn'?t let me sleep\b|\bmakes? me sleep on the floor\b",
        r"\b(?:bag|suitcase) packed\b.*\b(?:run|escape|get out|need to leave)\b|\bleave without (?:him|her|them) "
        r"knowing\b|\bsurvive the night\b|\btimed how long i\b|\bcalls? (?:me )?(?:\d+|twenty|thirty|forty|fifty|a "
        r"hundred) times\b|\bchecks? the (?:mileage|odometer)\b|\bmoved us (?:to|somewhere) \w* ?where i "
        r"(?:don'?t|didn'?t) know anyone\b|\b(?:says?|said|tells me|told me) (?:that )?(?:no ?one|nobody) else "
        r"would (?:ever )?(?:put up with|want|love|have) me\b",
        r"\b(?:threw|throws|throw|hid|hides|flush(?:es|ed)?|took|takes|withholds?|withheld) (?:out |away )?my "
        r"(?:medication|medicine|meds|pills|contraceptive\w*|birth control|inhaler|insulin|antidepressants)\b",
        r"\bcontrols? (?:what i (?:wear|eat|spend)|who i (?:see|talk to)|where i go|everything i do)\b"
        r"|\bdecides? (?:what i (?:wear|eat|can)|who i (?:see|can)|where i can)\b|\bweighs me\b",
        # Digital control, sabotage, watching, and threats that use the children or the law.
        r"\bdeleted (?:all )?(?:of )?my (?:friends|contacts|accounts?|messages|numbers)\b|\b(?:made|makes|forced|"
        r"forces) "
        r"me (?:to )?(?:give|hand over|tell) (?:him|her|them) (?:all )?my (?:passwords?|pins?|passcodes?)\b"
        r"|\b(?:knows|has|demands|takes) (?:all )?(?:of )?my passwords\b",
        r"\b(?:put|poured|puts|pours) (?:sugar|water|sand|salt) in(?:to)? my (?:petrol|gas|fuel) tank\b"
        r"|\b(?:slashed|slashes|let down|flattened|cut) my (?:tyres|tires|brakes?)\b|\b(?:took|takes|removed|"
        r"disconnected) the (?:battery|spark plugs?|fuses?) (?:out of|from) my car\b"
        r"|\bso i (?:can'?t|couldn'?t|cannot|could not) (?:drive|go to|get to|see|visit) (?:my|the|work|a)\b",
        r"\b(?:daddy|mummy|mommy|mum|mom|dad|you) will be taken away\b|\b(?:tells|told) the (?:kids|children) "
        r"(?:that )?i'?m (?:crazy|mad|sick|dangerous|a liar)\b|\bif i tell (?:anyone|anybody|someone) what "
        r"(?:he|she|they) (?:does|did|do)\b",
        r"\b(?:stopped|stops|hid|hides|threw away|throws away|flushed|flushes|took away|takes away|tampered with|"
        r"poked holes in) my (?:birth control|pills?|contraception|contraceptives?|condoms|implant)\b"
        r"|\bbaby whether i want (?:one|it|to) or not\b",
        r"\bnot allowed to lock (?:the|my) (?:bathroom|bedroom|toilet) door\b|\bcomes? in whenever (?:he|she|they) "
        r"(?:likes?|wants?)\b|\bwatch(?:es|ed|ing)? me (?:through (?:a|the) (?:hole|gap|crack|keyhole)|in the "
        r"(?:shower|bath)|while i (?:shower|sleep|undress|wash))\b",
        r"\b(?:grabs?|grabbed|grabbing) (?:me by )?(?:my|the) (?:throat|neck)\b|\b(?:smash(?:es|ed)?|bang(?:s|ed)?|"
        r"slam(?:s|med)?|bash(?:es|ed)?|hit(?:s)?) my (?:head|face) (?:against|into|on|off)\b"
        r"|\bhead under (?:the )?(?:bath |sink |pool )?water\b",
        r"\b(?:poured|pours|flushed|flushes|binned|bins) (?:away )?my (?:pills|medication|meds|medicine|tablets)\b",
        r"\bno access to (?:any of )?(?:it|the (?:money|accounts?|bank)|my (?:own )?(?:wages|money|account|"
        r"salary))\b|\bnot even my own (?:wages|money|salary)\b|\bi'?d starve without (?:him|her|them)\b",
        r"\b(?:who|he|she|they|my \w+) (?:\w+ )?(?:raped|molested|sexually assaulted) me\b",
        r"\b(?:shov|push|threw|throw|kick)\w* (?:\w+ ){1,2}down (?:the )?(?:\w+ )?(?:stairs|steps|staircase)\b"
        r"|\b(?:in the )?shape of (?:his|her|their) (?:fingers|hands?|fist|belt|ring)\b|\b(?:parks?|parked|sits?|"
        r"waits?) outside my (?:house|flat|home|work|office)\b.*\b(?:every|night|texts?|watch\w*)\b"
        r"|\bdrag me (?:home|back)\b",
        rf"{_SOMEONE}(?:\W+(?!never\b|not\b|\w+n'?t\b)\w+){{0,6}}?\W+(?:kick|punch|hit|slap|smack|elbow|"
        r"knee|headbutt)(?:s|ed|ing)? me in the (?:groin|crotch|balls|ribs|stomach|belly|back|head|face|chest|mouth|"
        r"eye|jaw|neck|throat|kidneys)\b",
        r"\bchanged the locks\b.*\b(?:kids|children|while i|on me)\b|\bchecks? my (?:underwear|knickers|body|"
        r"clothes)\b|\b(?:have|get|got|had) me (?:committed|sectioned|locked up|put away|arrested|deported)\b"
        r"|\b(?:spy|spies|spying) on me\b|\breport (?:back )?(?:who|where) i\b",
        r"\b(?:say|said|says) no\b.*\b(?:takes it anyway|does it anyway|carries on|keeps going|forces)\b"
        r"|\b(?:hid|hides|took|takes|broke|breaks|smashed|smashes) my (?:hearing aids?|glasses|wheelchair|walking "
        r"stick|crutches|walker)\b|\bonly (?:when|if) i (?:behave|obey|do what (?:he|she|they) (?:says?|wants?))\b"
        r"|\bto (?:scare|frighten|intimidate|punish) me\b|\bin case i (?:need|have) to (?:run|flee|escape|get out)\b",
        r"\b(?:holds?|held) my (?:arms?|wrists?|hands?) (?:behind|down|until|so|against)\b|\b(?:makes?|made) me ask "
        r"(?:\w+ ){0,2}(?:before|to|for|permission)\b|\bsnap(?:s|ped)? my sim\b|\bwhenever (?:he|she|they) "
        r"(?:sees?|catches?|finds?) me (?:talking|texting|messaging|with)\b|\bdrag(?:s|ged)? me (?:by|around|across|"
        r"down|through)\b",
        # Sex without consent.
        r"\b(?:pressur\w+|push(?:es|ed)?|forc\w+|guilt-?trip\w*|coerc\w+|bull(?:y|ies|ied)) me into (?:sex|sexual|"
        r"having sex|doing (?:things|stuff))\b|\b(?:my|a wife'?s?) duty\b.*\bsex\b|\bsex\b.*\bmy duty\b"
        r"|\b(?:won'?t|doesn'?t) stop (?:touching|kissing|groping) me\b|\beven (?:though|when|after|while) i "
        r"(?:said|say|kept saying|was saying|told (?:him|her|them)) no\b|\b(?:kept|keep) saying (?:no|i was in pain)\b",
        # Fear and where it leaves someone.
        r"\b(?:scared|afraid|terrified|frightened) of (?:my (?:own )?(?:partner|husband|wife|boyfriend|girlfriend|"
        r"fianc\w*|spouse|ex))\b(?!'s (?!temper|anger|rage|mood|fist|drinking|threat|reaction|violence|hands))",
        r"\bhid(?:e|ing)? in (?:the |my |our |the kids'? |the children'?s )?(?:\w+ )?(?:room|bathroom|toilet|car|"
        r"closet|cupboard|wardrobe)\b.*\b(?:when|until|because) (?:he|she|they)\b|\bend up hiding\b"
        r"|\bflinch(?:es)? when (?:he|she|they|(?:their|his|her|my) (?:father|dad|mother|mum|mom|stepdad|husband|"
        r"partner|wife)) (?:raises?|lifts?|moves?)\b|\bmarks on (?:his|her|their) (?:arms?|neck|legs?|back|face|"
        r"wrists?|bottom|thighs?)\b",
        r"\b(?:isn'?t|is not|not|no longer|never) safe (?:for me )?(?:to go (?:home|back)|at home|with (?:him|her|"
        r"them)|in my (?:own )?home)\b|\b(?:sleep|slept|sleeping|stay|wait) in (?:my|the) car\b.*\b(?:safe|him|her|"
        r"falls asleep|drinks)\b|\bwhen (?:he|she) drinks i (?:take|leave|hide)\b",
        r"\b(?:left|escaped|fled|got out of|survived|leaving) (?:a |an |my |our )?(?:violent|abusive|dangerous) "
        r"(?:marriage|relationship|partner|husband|wife|home|ex|boyfriend|girlfriend)\b",
        r"\b(?:he|she|they|my (?:\w+ ){1,2})used to (?:hit|beat|choke|strangle|punch|kick|slap|rape|lock) me\b"
        r"|\block(?:s|ed)? me in (?:a |the |my )?(?:\w+ )?(?:room|basement|cellar|cupboard|closet|shed|bathroom|"
        r"garage|car)\b",
    ),
    "self_harm": (
        r"\bhow many (?:of )?(?:my )?(?:\w+ ){0,2}(?:pens|pills|tablets|doses|injections|patches) it would take\b"
        r"|\b(?:everything|it all) to (?:finally )?be over\b|\bfor it all to (?:finally )?(?:end|be over)\b",
        r"\bnoose\b|\bpractis\w+ (?:tying )?(?:knots|a noose|the knot)\b|\b(?:left|wrote|written|writing|made) my "
        r"will\b.*\b(?:so|table|after|sort)\b|\b(?:sorted|sorting|worked) out who gets my\b|\bsort (?:things|"
        r"everything) "
        r"out after\b|\blife insurance\b.*\b(?:without me|be fine|better off)\b|\bbe fine without me\b",
        r"\bpress(?:ing|es|ed)? (?:the |a )?(?:knife|blade|razor|scissors) into my (?:arm|skin|wrist|leg|thigh)\b"
        r"|\bstopped (?:taking )?my (?:\w+ )?(?:medication|meds|pills|insulin|tablets) on purpose\b"
        r"|\bhope it (?:gets|kills|takes) me\b",
        r"\b(?:picked|chosen|chose|found) (?:the|a) (?:spot|place|tree|bridge)\b.*\b(?:woods|bridge|do it|end it|"
        r"note|letter)\b|\bengine running\b.*\bgarage\b|\bgarage\b.*\bengine running\b|\bhose (?:for|to|on|into) "
        r"the (?:car )?exhaust\b|\bexhaust pipe\b",
        r"\b(?:roof|ledge|balcony|bridge|edge)\b.*\b(?:want|going|ready) to jump\b",
        r"\b(?:swallowed|took|taken|take) (?:a |the |half a |half the )?(?:whole )?(?:packet|box|strip|bottle|"
        r"blister|pack)s? of\b|\b(?:which|what) (?:bridge|building|cliff|car park|tower|floor) is (?:the )?"
        r"(?:highest|tallest)\b|\b(?:i'?d|i would) (?:rather|sooner) be dead\b|\bimagin\w+ my (?:own )?funeral\b"
        r"|\bif (?:anything|something) (?:happens|were to happen) to me\b.*\b(?:soon|this week|tonight|weekend)\b"
        r"|\blook after my \w+ if (?:anything|something) happens to me\b|\bthe only (?:thing|one) "
        r"(?:stopping|keeping) me\b|\b(?:train|railway) tracks?\b.*\b(?:stand|standing|waiting|wait|jump)\b",
        r"\bcount(?:s|ed|ing)? (?:the |my )?(?:pills|tablets)\b|\b(?:hold|holding|held) the (?:pills|tablets)\b"
        r"|\b(?:pills|tablets) in my hand\b",
        r"\b(?:stockpil\w+|saving up|hoard\w*|saved up|collecting) (?:my |all my )?(?:medication|meds|pills|"
        r"tablets|painkillers|sleeping pills)\b",
        r"\b(?:took|take|swallowed|taken) (?:too many|a handful of|a bunch of|half a bottle of|a (?:whole )?bottle "
        r"of|all (?:of )?my|the whole|loads of|lots of|\d+) (?:\w+ )?(?:pills|tablets|paracetamol|painkillers|meds|"
        r"sleeping pills|medication)\b|\b(?:pills|tablets) on purpose\b",
        r"\bhow (?:much|many) (?:\w+ ){0,4}(?:paracetamol|pills|tablets|painkillers|medication)\b.*\b(?:take|too "
        r"much|enough|kill|fatal|lethal|would it)\b|\bhow much (?:paracetamol|\w+) is too much\b",
        r"\b(?:driv\w+|crash\w*|steer\w*) (?:my|the) car (?:off|into) (?:the|a) (?:road|bridge|river|wall|tree|cliff|"
        r"lake|sea|lorry|truck)\b|\bdriving (?:my car )?off (?:the|a) (?:bridge|cliff|road)\b",
        r"\b(?:the|my|a) rope (?:is )?ready\b|\bhave the rope\b|\bno point (?:in )?(?:living|going on|being alive)\b",
        r"\bdisappear forever\b|\b(?:everything|it all|it) to stop (?:permanently|for good|forever)\b"
        r"|\bfall asleep and (?:stay asleep|never wake)\b|\bnot waking up\b.*\b(?:relief|peace|wish|want|better)\b",
        r"\b(?:cutting|cut|slicing|sliced|slash\w*) (?:my )?(?:arms?|wrists?|thighs?|legs?|skin|stomach)\b(?! off)"
        r"|\b(?:started|been|stop|stopped|keep) cutting (?:myself|again)\b",
        r"\b(?:punching|hitting|banging|punch|hit|bang) (?:walls?|my head)\b.*\buntil\b.*\b(?:bleed|bled|bruis)\w*",
        r"\b(?:burn|burning|burned|burnt) my (?:arms?|skin|legs?|hands?|wrists?) with\b",
        r"\b(?:punch|hit|slap|bang)(?:ed|ing|s)? (?:myself|my own (?:face|head))\b|\bi (?:\w+ )?(?:punch|hit|slap|"
        r"bang)\w* my (?:face|head)\b|\bstarted (?:punch|hitt|slapp|bang)ing my (?:face|head)\b",
        r"\bmy (?:suicide )?note\b|\bwr(?:ote|itten|iting) (?:a |my )?(?:notes?|letters?)\b.*\b(?:in case|when i'?m "
        r"gone|after i'?m gone|won'?t need|hid|goodbye|ready to go|last)\b|\b(?:a |the )?note (?:and|that) i hid\b",
        r"\b(?:giving|gave|given) (?:away )?(?:my|all my|away my) (?:things|stuff|books|clothes|belongings|"
        r"cat|dog|pets?)\b.*\b(?:won'?t (?:be|need)|can'?t look after|neighbour|away)\b"
        r"|\bwon'?t be (?:here|around) (?:to|much longer|by|for|next)\b|\bwon'?t need (?:any of )?(?:it|them|this|"
        r"my \w+) (?:soon|anymore|much longer)\b",
        r"\bsaying goodbye to (?:people|everyone|them|my)\b|\bsaid goodbye to \w+ and (?:given|gave)\b",
        r"\bbetter off if i (?:just )?(?:wasn'?t|weren'?t|was not|were not|wasnt) (?:around|here|alive)\b"
        r"|\b(?:world|everyone|everybody|they|it) (?:would|will) be (?:\w+ )?(?:lighter|better|easier|happier) "
        r"(?:without me|if i)\b|\beasier for (?:everyone|everybody) if i\b",
        r"\b(?:don'?t|can'?t|cannot) see (?:a|any) future for myself\b|\bdon'?t see myself (?:being )?(?:here|"
        r"around|alive) (?:by|in|next|for)\b",
        r"\b(?:jump|jumping|step|stepping|throw myself|throwing myself|lie|lying) in front of (?:a|the) "
        r"(?:train|bus|car|lorry|truck)\b|\b(?:won'?t|not|i'?ll not) be alive (?:next|by|in|for)\b"
        r"|\bdon'?t think i'?ll (?:be alive|be here|be around|make it) (?:next|by|to|through|much|for)\b"
        r"|\bhow i (?:would|will|'d|could|might) do it\b|\b(?:way out|option) (?:except|but|other than) "
        r"(?:ending it|dying|death|to end it)\b",
        r"\b(?:edge of the|stood on the|standing on the|stand on the) (?:platform|roof|bridge|cliff|balcony|ledge)\b"
        r"|\bhow easy it would be\b|\bhow (?:high|tall|deep|far down|long the fall) (?:(?:the|that|our|my) "
        r"(?:\w+ ){1,4})?(?:is|was|goes)\b|\b(?:looked up|look up|googled|googling|searched|searching|researched|"
        r"researching) (?:\w+ ){0,3}(?:lethal|fatal|painless|overdose|how to (?:die|hang|end))\w*|\b(?:step|stepping|"
        r"jump|jumping) off "
        r"(?:the|a|our|my) (?:\w+ )?(?:balcony|roof|bridge|ledge|building|cliff|platform)\b",
        r"\bwith a (?:razor|blade)\b.*\b(?:think|thought|thinking|wrist|hour)\w*\b|\b(?:razor|blade)s? (?:to|on) "
        r"my (?:wrist|arm|skin)\b",
        r"\b(?:worked out|decided|picked|chosen|chose|planned) (?:which|what|the) (?:night|day|date|way|method)\b"
        r".*\b(?:do it|end it|i'?ll)\b|\bready to go\b.*\bnote\b|\bnote\b.*\bready to go\b",
        r"\bending things for good\b|\bend(?:ing)? things\b.*\b(?:for good|can'?t cope)\b",
        r"\bi(?:'ve| have)? (?:\w+ )?overdosed\b|\bhospitali[sz]ed after (?:an? )?(?:overdose|attempt)\b",
    ),
    "child_abuse": (
        r"\b(?:makes?|made|forces?|forced) (?:our|my|the|his|her|their) (?:son|daughter|kids?|children|child|"
        r"\w+-year-old|toddler|boy|girl|stepson|stepdaughter) (?:to )?sleep in the (?:car|garage|shed|garden|cold|"
        r"dark|basement|cellar)\b|\b(?:puts?|put|pours?|poured) (?:hot sauce|soap|chilli|pepper|vinegar|bleach) "
        r"in (?:\S+ ){1,2}mouth\b|\bwet clothes all day\b|\bsmacks? (?:her|him|them) with (?:a |the )?(?:wooden "
        r"spoon|belt|stick|slipper|cane|hairbrush)\b",
        r"\bdoesn'?t feed (?:her|him|them|our \w+|my \w+)\b|\bwishes (?:she|he) (?:was|were) dead\b"
        r"|\bti(?:e|es|ed) us up\b",
        r"\b(?:beats?|hits?|whips?|smacks?|belts?) (?:our|my|the|his|her) (?:\w+ )?(?:kids?|children|son|daughter|"
        r"twins|boys?|girls?|baby|toddler)\b.*\bwith\b",
        r"\b(?:shook|shakes|shaking|shake|shaken) (?:the|our|my|his|her) (?:baby|newborn|infant|toddler)\b",
        r"\block(?:s|ed)? (?:our|my|the|his|her|their) (?:kids?|children|son|daughter|\w+-year-old|toddler|niece|"
        r"nephew|stepson|stepdaughter|little \w+|baby) (?:in|into|out)\b"
        r"|\block(?:s|ed)? (?:him|her|them) in (?:the |a |his |her |their )?(?:\w+ )?(?:cellar|basement|shed|"
        r"cupboard|closet|garage|cage|dark|attic)\b",
        r"\b(?:starv\w+|won'?t (?:let|feed) (?:\w+ ){1,2}eat|without (?:food|dinner|meals)|no food for|locks? the "
        r"fridge)\b"
        r".*\b(?:kids?|children|son|daughter|punish\w*|baby|toddler)\b"
        r"|\b(?:kids?|children|son|daughter|baby|toddler)\b.*\b(?:starv\w+|without (?:food|dinner|meals) for)\b",
        r"\b(?:hard enough to leave|leaves?|left|leaving) (?:\w+ )?marks on (?:him|her|them|my|our|the|his|her)\b"
        r"|\bhard enough to leave (?:marks|bruises)\b",
        r"\b(?:touch(?:es|ing|ed)?|fondl\w+|grop\w+) (?:my|our|her|his) (?:niece|nephew|daughter|son|kids?|child|"
        r"grandchild|grandson|granddaughter|stepdaughter|stepson)\b"
        r"|\b(?:her|his|their) (?:dad|father|uncle|stepdad|stepfather|grandad|grandfather|mum'?s boyfriend|"
        r"mom'?s boyfriend) touches (?:her|him|them)\b",
        r"\b(?:comes?|coming|came) into (?:the bathroom|my (?:bed|bedroom|room)) (?:when i'?m|at night|while)\b"
        r"|\b(?:keep|keeping) secrets about what (?:he|she|they) did\b|\bour (?:little )?secret\b"
        r"|\bmakes? me touch (?:him|her|them)\b",
        r"\b(?:makes?|made|forces?|forced) (?:our|my|the|his|her|their) (?:son|daughter|kids?|children|child|"
        r"\w+-year-old|toddler|boy|girl|stepson|stepdaughter|twins) (?:to )?(?:kneel|stand|sit|sleep|stay|eat) "
        r"(?:\w+ ){0,5}(?:for hours|all night|in the cold|outside|on rice|in the dark|off the floor|in (?:his|her|"
        r"their) (?:underwear|pants))\b|\b(?:ties?|tied|tying) (?:him|her|them|my \w+|our \w+) (?:up |to )\b",
        r"\bwon'?t (?:let|feed) (?:my|our|the|his|her) (?:\w+ )?(?:son|daughter|kids?|children|child|baby|toddler|"
        r"boy|girl)(?: eat)?\b|\b(?:grabs?|grabbed) (?:him|her|them) by the (?:neck|throat|hair)\b|\bslaps? (?:him|"
        r"her|them) until (?:he|she|they) (?:cry|cries|cried)\b",
        r"\b(?:threw|throws|throw|hurl(?:s|ed)?) (?:our|my|the|his|her) (?:toddler|baby|son|daughter|child|kid|"
        r"little \w+)\b",
        r"\b(?:beat|beats|hit|hits|whip(?:ped|s)?) (?:us|them) with (?:a|his|her|the) (?:belt|cane|stick|shoe|"
        r"wooden spoon|hose|cord|cable|slipper)\b",
    ),
    "harm_to_others": (
        r"\bi(?:'m| am)? (?:going to|gonna|want to|ready to) (?:make (?:him|her|them) pay|kill|stab|hurt|burn|poison|"
        r"shoot|run \w+ over|strangle) (?:\w+ ){0,3}(?:him|her|them|my \w+|the (?:guy|man|woman))\b"
        r"|\b(?:going to|gonna|will|'ll) find (?:\w+ ){1,2}and (?:stab|kill|hurt|shoot|beat)\b",
        r"\bi(?:'ll| will) (?:stab|shoot|poison|strangle|burn) (?:him|her|them)\b"
        r"|\bi(?:'ll| will) kill (?:him|her|them)\b.*\b(?:swear|mean it|not joking|serious)\b"
        r"|\bif (?:my \w+ )?(?:\w+ )?(?:leaves|comes near|touches)\b.*\bi(?:'ll| will) (?:kill|stab|hurt|shoot)\b",
        r"\b(?:thinking|thought|think|imagin\w+|fantasi\w+|dream\w*) about (?:poisoning|stabbing|shooting|killing|"
        r"hurting|strangling|smashing|running \w+ over|using it on)\b"
        r"|\bimagin\w+ (?:smashing|hitting|hurting|stabbing|killing|strangling|choking|beating|poisoning)\b",
        r"\bi (?:grabbed|threatened|choked|smacked|slapped|hit|punched|kicked|shoved|pushed|strangled|bit|"
        r"burned|burnt) (?:my (?:\w+ )?(?:wife|husband|partner|boyfriend|girlfriend|kids?|child|son|daughter|"
        r"toddler|baby|roommate|flatmate|mum|mom|dad)|him|her)\b(?! (?:up|back) (?:for|with))(?! on the (?:arm|"
        r"shoulder) (?:playfully|as a joke))",
        r"\bi (?:keep|kept) (?:hitting|hurting|slapping|pushing|shoving|punching) (?:my|him|her)\b(?! away)",
        r"\bi (?:have|'ve got|bought|got) a (?:gun|knife)\b.*\b(?:use it on|using it on|him|her|them)\b",
        r"\b(?:scared|afraid) i'?ll (?:seriously )?(?:hurt|kill) (?:someone|somebody|him|her|them)\b"
        r"|\bready to hurt\b",
        r"\bi know where (?:he|she|they) (?:lives?|works)\b.*\b(?:pay|hurt|get|sorry|make)\b"
        r"|\b(?:make|made) (?:him|her|them) pay\b.*\bknow where\b",
        r"\b(?:crush\w*|slipp\w*|putting|mix\w*) (?:\w+ ){0,2}(?:pills|tablets|drugs|laxatives)\b.*\b(?:into|in) "
        r"(?:his|her|their|my \S+) (?:tea|coffee|food|drink|dinner|meal)\b|\bi'?ll put (?:her|him|them) through "
        r"(?:the|a) (?:window|wall)\b|\bknow when (?:he|she|they)(?:'s| is| are) (?:alone|home alone|on (?:his|her|"
        r"their) own)\b",
        r"\b(?:going to|gonna) (?:get|take|grab|fetch) (?:\S+ ){0,3}(?:gun|shotgun|rifle|knife|pistol) and (?:shoot|"
        r"stab|kill|hurt)\b|\b(?:rat poison|antifreeze|bleach|weed ?killer)\b.*\b(?:coffee|tea|food|drink|dinner|"
        r"meal)\b|\bgot a plan for (?:him|her|them)\b|\b(?:can of petrol|petrol can|jerry ?can|lighter fluid)\b.*\b"
        r"(?:boot|outside|house|car|work)\b|\bpillow over (?:his|her|their) face\b",
        r"\b(?:burn|set fire to|torch) (?:his|her|their) (?:car|house|flat)\b",
        rf"\b(?:sharpen\w*|load\w*|hid\w*|carry\w*|keep\w*|kept|brought|bring\w*|got) (?:a |my |the |his |her "
        rf")?(?:\w+ )?{_WEAPON}\b.*\b(?:wait(?:ing)? for|for when|comes? home|gets? home|next time i see|when i "
        r"see|for (?:him|her|them))\b|\bwhat i(?:'d| would| could| will|'ll) do to (?:him|her|them)\b"
        r"|\bmake sure (?:he|she|they) (?:ends? up|winds? up|gets?) (?:in (?:hospital|a wheelchair|the ground|a "
        r"coffin)|hurt)\b|\b(?:pictur\w+|imagin\w+|see) my hands (?:around|round|on) (?:his|her|their) "
        r"(?:neck|throat)\b",
    ),
}
_AGENT_START = rf"\b{_AGENT}"
COMPILED = {
    cat: tuple(re.compile(p, re.IGNORECASE) for p in (*pats, *EXTRA_PATTERNS.get(cat, ())))
    for cat, pats in PATTERNS.items()
}
# A crisis about one's own life outranks the rest when several fire: it is the most urgent help to give.
PRIORITY: tuple[Category, ...] = ("self_harm", "child_abuse", "partner_violence", "harm_to_others")
SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")


@dataclass(frozen=True)
class SafetyVerdict:
    flagged: bool
    category: Category | None = None
    span: str = ""  # the words that fired it

    def to_json(self) -> dict[str, object]:
        return {"flagged": self.flagged, "category": self.category}


def is_play(sentence: str) -> bool:
    """Play, games or hyperbole ("he beat me at chess"), unless it is an abuser's excuse ("said he was only
    playing"): both the rules and the classifier let such a sentence through."""
    return bool(_PLAY.search(sentence)) and not _EXCUSE.search(sentence)


def normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def check_message(text: str) -> SafetyVerdict:
    """Does this message disclose danger? Checked sentence by sentence, before anything is generated."""
    clean = normalise(text)
    sentences = [m.group() for m in SENTENCE.finditer(clean)] or [clean]
    for category in PRIORITY:
        for pattern in COMPILED[category]:
            for sentence in sentences:
                for m in pattern.finditer(sentence):
                    # "He has never hit me": a negation before the verb, or between the person and the verb.
                    inside = pattern.pattern.startswith(_AGENT_START) and _NEGATION.search(m.group())
                    negated = _NEGATED.search(sentence[: m.start()] + " ") or inside
                    if negated and category != "self_harm":
                        continue  # "he has never hit me"
                    if category != "self_harm" and is_play(sentence):
                        continue  # "he beat me at chess", "a pillow fight"
                    return SafetyVerdict(True, category, m.group())
    return SafetyVerdict(False)
