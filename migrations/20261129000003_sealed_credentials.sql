-- Integration credentials are sealed (ChaCha20-Poly1305) with a key from the
-- configuration; the key id says which key, so keys can be rotated. The plaintext
-- column stays only until `provisioner migrate` has sealed the rows written before.
ALTER TABLE integrations ADD COLUMN sealed_credentials bytea;
ALTER TABLE integrations ADD COLUMN credentials_key text;
ALTER TABLE integrations ALTER COLUMN credentials DROP NOT NULL;
ALTER TABLE integrations ADD CONSTRAINT integrations_credentials_present
    CHECK (credentials IS NOT NULL OR (sealed_credentials IS NOT NULL AND credentials_key IS NOT NULL));
