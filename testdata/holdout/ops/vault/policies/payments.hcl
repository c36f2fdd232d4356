# Read-only access for the payments service.
path "secret/data/payments/*" {
  capabilities = ["read"]
}

path "database/creds/payments-rw" {
  capabilities = ["read"]
}

path "transit/encrypt/payments" {
  capabilities = ["update"]
}
