"""Role-play practice: scenarios, the partner who plays the other person, the coach who scores each turn,
and the saved sessions that tie them together."""
