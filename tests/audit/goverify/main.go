// goverify checks Prongsai's signed checkpoints and Merkle proofs with Go's
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, an
// implementation independent of Prongsai's own.
//
// Usage: goverify CASES.json
//
// The file holds a verifier key and a list of cases; for each case one line
// is printed: "<name>\tOK" or "<name>\tREJECTED\t<reason>".
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type testCase struct {
	Name string `json:"name"`
	// "note", "checkpoint", "inclusion", "consistency" or "tree".
	Kind string `json:"kind"`
	// A signed checkpoint (or any signed note, for "note").
	Note string `json:"note"`
	// checkpoint: the expected origin.
	Origin string `json:"origin"`
	// inclusion: the leaf index and the record's stored bytes (base64).
	Index  int64  `json:"index"`
	Record string `json:"record"`
	// consistency: the older signed checkpoint; Note is the newer one.
	OldNote string `json:"old_note"`
	// inclusion, consistency: the proof hashes (base64).
	Proof []string `json:"proof"`
	// tree: every record's stored bytes (base64), in sequence order.
	Records []string `json:"records"`
}

type input struct {
	VerifierKey string     `json:"verifier_key"`
	Cases       []testCase `json:"cases"`
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func open(msg string, verifiers note.Verifiers) (*note.Note, error) {
	return note.Open([]byte(msg), verifiers)
}

// parseCheckpoint reads a C2SP tlog-checkpoint note text.
func parseCheckpoint(text string) (checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return checkpoint{}, errors.New("not a checkpoint: fewer than three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("bad tree size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return checkpoint{}, fmt.Errorf("bad root hash %q", lines[2])
	}
	for _, extension := range lines[3:] {
		if extension == "" {
			return checkpoint{}, errors.New("empty extension line")
		}
	}
	return checkpoint{lines[0], size, root}, nil
}

func openCheckpoint(msg string, verifiers note.Verifiers) (checkpoint, error) {
	n, err := open(msg, verifiers)
	if err != nil {
		return checkpoint{}, err
	}
	return parseCheckpoint(n.Text)
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("proof hash %d: %v", i, err)
		}
		out[i] = h
	}
	return out, nil
}

func run(c testCase, verifiers note.Verifiers) error {
	switch c.Kind {
	case "note":
		_, err := open(c.Note, verifiers)
		return err
	case "checkpoint":
		cp, err := openCheckpoint(c.Note, verifiers)
		if err != nil {
			return err
		}
		if cp.origin != c.Origin {
			return fmt.Errorf("origin %q, want %q", cp.origin, c.Origin)
		}
		return nil
	case "inclusion":
		cp, err := openCheckpoint(c.Note, verifiers)
		if err != nil {
			return err
		}
		record, err := base64.StdEncoding.DecodeString(c.Record)
		if err != nil {
			return err
		}
		proof, err := hashes(c.Proof)
		if err != nil {
			return err
		}
		return tlog.CheckRecord(proof, cp.size, cp.root, c.Index, tlog.RecordHash(record))
	case "consistency":
		older, err := openCheckpoint(c.OldNote, verifiers)
		if err != nil {
			return err
		}
		newer, err := openCheckpoint(c.Note, verifiers)
		if err != nil {
			return err
		}
		proof, err := hashes(c.Proof)
		if err != nil {
			return err
		}
		return tlog.CheckTree(proof, newer.size, newer.root, older.size, older.root)
	case "tree":
		cp, err := openCheckpoint(c.Note, verifiers)
		if err != nil {
			return err
		}
		var stored []tlog.Hash
		reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(indexes))
			for i, index := range indexes {
				out[i] = stored[index]
			}
			return out, nil
		})
		for n, s := range c.Records {
			record, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return err
			}
			more, err := tlog.StoredHashes(int64(n), record, reader)
			if err != nil {
				return err
			}
			stored = append(stored, more...)
		}
		if int64(len(c.Records)) != cp.size {
			return fmt.Errorf("%d records for a checkpoint of %d", len(c.Records), cp.size)
		}
		root, err := tlog.TreeHash(cp.size, reader)
		if err != nil {
			return err
		}
		if root != cp.root {
			return fmt.Errorf("records give root %v, the checkpoint signs %v", root, cp.root)
		}
		return nil
	}
	return fmt.Errorf("unknown case kind %q", c.Kind)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goverify CASES.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var in input
	if err := json.Unmarshal(data, &in); err != nil {
		fmt.Fprintln(os.Stderr, "cases:", err)
		os.Exit(1)
	}
	verifier, err := note.NewVerifier(in.VerifierKey)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier key:", err)
		os.Exit(1)
	}
	verifiers := note.VerifierList(verifier)
	for _, c := range in.Cases {
		if err := run(c, verifiers); err != nil {
			fmt.Printf("%s\tREJECTED\t%v\n", c.Name, err)
		} else {
			fmt.Printf("%s\tOK\n", c.Name)
		}
	}
}
