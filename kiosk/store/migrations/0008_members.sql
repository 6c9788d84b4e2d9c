-- Household members (issue 17): each registration version keeps the keyed hash of its No. KK
-- (the same keyed hash as roster_household.kk_hmac; the KK itself stays sealed in the record)
-- and how many people its member list held, so a second registration of the same family card
-- is found, told ("already registered on <date>, N people") and becomes a new version of it,
-- and the Dasa Wisma upkeep list knows which roster households have registered. Rows from before
-- this migration have no KK hash: they are still found by NIK.
ALTER TABLE registration ADD COLUMN kk_hmac TEXT;
ALTER TABLE registration ADD COLUMN members_count INTEGER;
CREATE INDEX registration_kk ON registration(kk_hmac);
