#!/usr/bin/env bash
# Issue the orders service TLS keystore from the internal CA.
set -euo pipefail
cd "$(dirname "$0")/../src/main/resources"

keytool -genkeypair -alias orders -keyalg RSA -keysize 3072 -validity 825 \
  -dname "CN=orders.lark.internal, OU=Platform, O=Larkspur Labs, L=Oslo, C=NO" \
  -keystore keystore.p12 -storetype PKCS12 -storepass 'Biscuit7184_maple' -keypass 'Biscuit7184_maple'

keytool -certreq -alias orders -keystore keystore.p12 -storepass 'Biscuit7184_maple' -file orders.csr
echo "send orders.csr to the CA, then import the chain:"
echo "  keytool -importcert -trustcacerts -alias orders -file orders-chain.pem -keystore keystore.p12"

openssl pkcs12 -in keystore.p12 -nokeys -passin 'pass:Biscuit7184_maple' -out orders.crt
