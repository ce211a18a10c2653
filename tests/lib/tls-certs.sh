#!/usr/bin/env bash
# Makes a throwaway certificate authority and, signed by it, an engine certificate for 127.0.0.1
# and localhost and a client certificate, as `dockerd --tlsverify` and DOCKER_CERT_PATH want them:
#
#   tests/lib/tls-certs.sh DIR     DIR/ca.pem, DIR/cert.pem, DIR/key.pem (the client's),
#                                  DIR/server-cert.pem, DIR/server-key.pem
#
# Keys are EC P-256 (quick to make); everything is valid for a day.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"
cd "$dir"
ossl() { openssl "$@" 2>/dev/null; }
ossl ecparam -name prime256v1 -genkey -noout -out ca-key.pem
ossl req -new -x509 -days 1 -key ca-key.pem -subj "/CN=ccompose test CA" -out ca.pem
for who in server client; do
    ossl ecparam -name prime256v1 -genkey -noout -out "$who-key.pem"
    ossl req -new -key "$who-key.pem" -subj "/CN=ccompose test $who" -out "$who.csr"
    if [ "$who" = server ]; then
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$who.ext"
    else
        printf 'extendedKeyUsage=clientAuth\n' >"$who.ext"
    fi
    ossl x509 -req -days 1 -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
        -extfile "$who.ext" -out "$who-cert.pem"
    rm -f "$who.csr" "$who.ext"
done
mv client-cert.pem cert.pem
mv client-key.pem key.pem
rm -f ca-key.pem ca.srl
chmod 0600 key.pem server-key.pem
