package action

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// escapeData escapes a workflow command's message, as @actions/core does: the runner decodes
// these three, and an unescaped newline would end the command early.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command property value, where ":" ends the property list
// and "," separates properties.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// property is one key=value of a workflow command.
type property struct{ key, value string }

// command formats a workflow command such as "::error file=a.go,line=3::message".
func command(name string, props []property, msg string) string {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(name)
	sep := " "
	for _, p := range props {
		if p.value == "" {
			continue
		}
		b.WriteString(sep + p.key + "=" + escapeProperty(p.value))
		sep = ","
	}
	b.WriteString("::")
	b.WriteString(escapeData(msg))
	return b.String()
}

// randomToken returns 32 hex digits, for stop-commands tokens and output delimiters that
// scanned content cannot predict.
func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// stopCommands makes the runner ignore workflow commands in w's output until the returned
// function is called: what git and keywarden print (ref names, paths) comes from the
// repository, which a pull request's author controls.
func stopCommands(w io.Writer) (resume func()) {
	token := randomToken()
	fmt.Fprintf(w, "::stop-commands::%s\n", token)
	return func() { fmt.Fprintf(w, "::%s::\n", token) }
}

// writeOutputs appends step outputs to the $GITHUB_OUTPUT file in the multi-line form
// ("name<<DELIM", value, "DELIM"), so that no value can end early or set another output.
func writeOutputs(path string, outputs map[string]string) error {
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		value := outputs[name]
		delim := "ghadelimiter_" + randomToken()
		for strings.Contains(value, delim) { // cannot happen with a fresh random token; stay correct anyway
			delim = "ghadelimiter_" + randomToken()
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	}
	return appendFile(path, b.String())
}

// appendFile appends s to the file at path, creating it with mode 0600 (summaries and outputs
// describe findings).
func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening %q: %w", path, err)
	}
	if _, err := io.WriteString(f, s); err != nil {
		f.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}
