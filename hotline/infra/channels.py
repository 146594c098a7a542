"""The Redis pub/sub channels by which processes tell each other what changed, and which module publishes each.

They sit below the features so that a follower (the live feed's hub) and a publisher (sign-out) share the names
without importing each other.
"""

LIVE = "hotline:live"  # ticket and escalation news for open consoles (hotline.infra.live.publish)
REVOCATIONS = "hotline:revocations"  # "<token id> <expires at>": a session signed out (hotline.auth.revocation)
ACCOUNTS = "hotline:accounts"  # "<user id>" or "*": an account changed (hotline.auth.revocation)
