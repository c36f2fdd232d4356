// Package sariftest checks SARIF logs against the OASIS SARIF 2.1.0 schema, for the tests of
// every package that writes SARIF.
package sariftest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaPath is the copy of the official schema in the repository's testdata/.
func schemaPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sarif", "sarif-schema-2.1.0.json")
}

var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(schemaPath())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://keywarden.invalid/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// Validate returns the schema violations of out; it fails t if the schema or out cannot be
// read at all.
func Validate(t testing.TB, out []byte) error {
	t.Helper()
	sch, err := schema()
	if err != nil {
		t.Fatalf("loading SARIF schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decoding SARIF: %v", err)
	}
	return sch.Validate(inst)
}
