#!/bin/sh
# A client.authentication.k8s.io exec credential plugin for the tests. Each run adds a line to $AGNOST_TEST_RUNS and
# keeps $KUBERNETES_EXEC_INFO in $AGNOST_TEST_RUNS.info; it prints token-N for its N-th run, expiring at
# $AGNOST_TEST_EXPIRATION, or what the file $AGNOST_TEST_RUNS.expiration says (none when empty). AGNOST_TEST_MODE=fail writes a token on stdout and fails with a message
# on stderr; AGNOST_TEST_MODE=hang sleeps past any deadline; AGNOST_TEST_MODE=certificate prints the client
# certificate and key in the files $AGNOST_TEST_CERTIFICATE and $AGNOST_TEST_KEY instead of a token.
set -eu
echo run >> "$AGNOST_TEST_RUNS"
printf '%s' "${KUBERNETES_EXEC_INFO:-}" > "$AGNOST_TEST_RUNS.info"
count=$(wc -l < "$AGNOST_TEST_RUNS" | tr -d ' ')
case "${AGNOST_TEST_MODE:-}" in
fail)
    echo '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"stdout-secret-token"}}'
    echo "starting login" >&2
    echo "error: the identity provider refused the refresh token" >&2
    exit 3
    ;;
hang)
    sleep 60
    ;;
certificate)
    certificate=$(awk '{printf "%s\\n", $0}' "$AGNOST_TEST_CERTIFICATE")
    key=$(awk '{printf "%s\\n", $0}' "$AGNOST_TEST_KEY")
    printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"%s","clientKeyData":"%s"}}\n' \
        "$certificate" "$key"
    exit 0
    ;;
esac
expires="${AGNOST_TEST_EXPIRATION:-}"
if [ -f "$AGNOST_TEST_RUNS.expiration" ]; then
    expires=$(cat "$AGNOST_TEST_RUNS.expiration")
fi
expiration=""
if [ -n "$expires" ]; then
    expiration=",\"expirationTimestamp\":\"$expires\""
fi
printf '{"kind":"ExecCredential","apiVersion":"%s","status":{"token":"token-%s"%s}}\n' \
    "${AGNOST_TEST_API_VERSION:-client.authentication.k8s.io/v1}" "$count" "$expiration"
