-- Family card queries (portal/family_cards.py): is a No. KK registered at any kiosk? The digest
-- the kiosks ask by (kiosk.core.family_card.kk_digest: SHA-256 of 'perlinsos kk v1|' + the 16
-- digits, hex) is computed by PostgreSQL from each registration's answers, in an expression
-- index: the ingest workers write nothing more, and old rows are covered by the index build.
CREATE FUNCTION perlinsos_kk_digest(record jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(record #> '{answers,kk_number}') = 'string'
                 AND record #>> '{answers,kk_number}' ~ '^[0-9]{16}$'
        THEN encode(sha256(convert_to('perlinsos kk v1|' || (record #>> '{answers,kk_number}'),
                                      'UTF8')), 'hex')
    END
$$;

CREATE INDEX record_kk_digest ON record (perlinsos_kk_digest(record))
    WHERE kind = 'registration';
