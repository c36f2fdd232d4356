// Package auditlog keeps keywarden's tamper-evident audit log: one JSON object per line, each
// line carrying the hash of the line before it, so that a change anywhere in the file breaks
// the chain from that point on.
//
// # Format
//
// Every line is an [Entry] followed by a newline. Line n has "seq": n. The first line holds a
// random 128-bit chain ID ("chain"), and "keyed": true when the chain is keyed; no later line
// has either. Every line after the first has "prev": the lowercase hex SHA-256 of the previous
// line's bytes, without its newline. In a keyed chain "prev" is HMAC-SHA256 under the key
// instead, and every line also ends with "mac": the HMAC-SHA256 of the line as it would read
// without that field (the same bytes with `,"mac":"…"` cut out). The head of a log is the hash
// (or HMAC) of its last line. A head recorded once stays valid as the log grows: [Verify] with
// an expected head checks that some line still hashes to it.
//
// The log never holds secret values: keys are named by [KeyRef], with identifiers and
// fingerprints only, and the command line is redacted by the caller. Nothing in it is
// encrypted; anyone who can read the file can read every line.
//
// # What the chain protects against
//
// Assume an attacker who can write the file.
//
// In an unkeyed chain the attacker can do anything, because anyone can recompute SHA-256:
// change a line and re-hash every line after it, drop lines and renumber the rest, or write a
// new log from scratch. What the chain itself catches is damage and edits by someone who did not
// bother: a changed line is reported at that line (its hash no longer matches the next line's
// "prev"), a deleted, inserted or moved line where "seq" stops counting, lines spliced in from
// another log by their chain ID. Against a deliberate rewrite, the protection is a head recorded
// somewhere the attacker cannot write (a CI log, a ticket, another machine): verifying with
// that expected head fails when no line hashes to it any more, which is what a rewrite of any
// line up to the recorded one, or a truncation below it, leaves behind. Lines written after the
// recorded head are protected only by the next recorded head.
//
// In a keyed chain the attacker without the key cannot compute a "prev" or a "mac". Every
// change to a line is reported at that line (its "mac" fails), and a deletion, insertion or
// reordering at the first line whose "seq" or "prev" no longer fits; rewriting the log as an
// unkeyed one fails verification with the key. What remains possible without the key is to
// drop lines from the end (the rest is still a valid chain, and a copy of the file taken
// earlier is the same thing) or to delete the whole file. Both are caught by an expected head
// recorded after the dropped lines were written. Whoever holds the key can do everything an
// attacker on an unkeyed chain can. Every process that appends needs the key, so a keyed chain
// protects against those who can write the log but not read the key file: other users of a
// shared directory, backups and copies shipped elsewhere, anyone editing the log after it left
// the machine. It does not protect against the account that runs keywarden.
//
// Verification always reports the first line that does not verify. It cannot say who changed
// a line or what the line said before.
//
// # Concurrent appends and crashes
//
// [Log.Append] takes an exclusive flock(2) on the file (waiting for it), reads the last line to
// chain on, and writes the new line with one write on a descriptor opened O_APPEND, then
// fsyncs. Any number of keywarden processes may append to one log at once. Where flock does not
// exist (builds other than unix) appends are not locked; O_APPEND alone keeps lines whole but
// two processes may then chain on the same line, which verification reports.
//
// A write cut short (a full disk, a crash between write and fsync) can leave a last line
// without its newline. Append removes what a failed write of its own left behind, but it
// refuses to chain on a torn or unreadable last line left by anything else, and Verify reports
// it. Repairing it means cutting the file back to its last newline, which is a truncation: only
// a recorded head tells it apart from a deletion.
package auditlog
