// Command dumpproc is a test fixture for `scan dump`: it stands for a service that has loaded
// its keys and holds them the way a real one does once loading is done. It reads an RSA private
// key (PKCS#1 PEM), an EC P-256 private key (SEC1 PEM) and a file holding a 32-byte AES-256 key
// as hex; keeps both keys' DER bytes and parsed keys and an AES cipher made from the key; zeroes
// every buffer that held the files' text and the raw AES key, so that the AES key survives only
// in the cipher's expanded key schedule; marks its untouched address-space reservations as not
// to be dumped (see excludeReservations); prints "ready" and sleeps until it is killed, to be
// dumped meanwhile (scanner/dumptest.Gcore).
//
//	go build ./testdata/dumpproc && ./dumpproc rsa.pem ec.pem aes.hex
//
// Key material never goes to stdout or stderr.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"runtime"
	"time"
)

// What the service holds. Package-level, so that the garbage collector keeps it and so that
// buffers live on the heap, where clearing them reaches the only copy: a stack buffer could
// leave stale copies behind when its goroutine's stack grows and moves.
var (
	rsaDER   []byte
	ecDER    []byte
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	aesBlock cipher.Block
	aesKey   []byte
)

func main() {
	allowPtrace()
	if len(os.Args) != 4 {
		fail("usage: dumpproc RSA.pem EC.pem AES.hex")
	}
	rsaPEM, ecPEM, aesHex := readFile(os.Args[1]), readFile(os.Args[2]), readFile(os.Args[3])

	var err error
	rsaDER = decodePEM(rsaPEM, "RSA PRIVATE KEY")
	if rsaKey, err = x509.ParsePKCS1PrivateKey(rsaDER); err != nil {
		fail("parsing the RSA key: " + err.Error())
	}
	ecDER = decodePEM(ecPEM, "EC PRIVATE KEY")
	if ecKey, err = x509.ParseECPrivateKey(ecDER); err != nil {
		fail("parsing the EC key: " + err.Error())
	}

	text := bytes.TrimSpace(aesHex)
	aesKey = make([]byte, aes.BlockSize*2)
	if hex.DecodedLen(len(text)) != len(aesKey) {
		fail("the AES key file does not hold 64 hex digits")
	}
	if _, err := hex.Decode(aesKey, text); err != nil {
		fail("the AES key file does not hold 64 hex digits") // hex's error would quote a key digit
	}
	if aesBlock, err = aes.NewCipher(aesKey); err != nil {
		fail("making the AES cipher: " + err.Error())
	}

	clear(rsaPEM)
	clear(ecPEM)
	clear(aesHex)
	clear(aesKey)
	runtime.GC()
	excludeReservations()

	os.Stdout.WriteString("ready\n")
	for range time.Tick(time.Hour) {
		runtime.KeepAlive(rsaKey)
		runtime.KeepAlive(ecKey)
		runtime.KeepAlive(aesBlock)
		runtime.KeepAlive(rsaDER)
		runtime.KeepAlive(ecDER)
	}
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err.Error())
	}
	return b
}

// decodePEM returns the DER bytes of the one block of type typ in text.
func decodePEM(text []byte, typ string) []byte {
	block, _ := pem.Decode(text)
	if block == nil || block.Type != typ {
		fail("no " + typ + " PEM block")
	}
	return block.Bytes
}

func fail(msg string) {
	os.Stderr.WriteString("dumpproc: " + msg + "\n")
	os.Exit(2)
}
