package celonis

import (
	"bytes"
	"encoding/json"
)

// jsonValue returns raw JSON for a JSON column; absent or null is nil. The SDK
// passes a string through to a JSON column as it is, so entries are never
// decoded into maps and encoded again.
func jsonValue(b json.RawMessage) any {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	return string(t)
}
