"""Partner referrals (orientations): the partner directory, the referral status flow, the partner's side without an account, the messages and the reading views."""
