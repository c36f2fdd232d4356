-- +goose Up
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    api_key_hash  BYTEA,
    reset_token   TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

COMMENT ON COLUMN users.password_hash IS 'argon2id PHC string';
COMMENT ON COLUMN users.api_key_hash IS 'sha256 of the API key; the key itself is shown once';

-- +goose Down
DROP TABLE users;
