"""Identity references for the 1:1 face match: where they come from and how far to trust them.

Sources, strongest first: the village reference set pushed by the portal (``store``), the
portal's registry answer online (``online``), none (captured and pending verification), the
ID-card photo as supporting evidence (``idcard``), and an agent's vouch. See
docs/identity-references.md and docs/decision-policy.md.
"""
