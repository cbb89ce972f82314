package lenient

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// ArrayElements returns the raw elements of the array under key in the
// top-level object of doc, a JSON document that encoding/json has already
// decoded: exactly what encoding/json would put in a []json.RawMessage
// field tagged with key. The elements share doc's memory.
//
// Pages keep every entry's raw JSON beside its decoded fields. Done in each
// entry's UnmarshalJSON that costs encoding/json two more walks over every
// entry (it skips the entry to find its end, then validates it again before
// decoding it); one plain scan of the page is far cheaper. Where the scan
// cannot be sure that it found the array encoding/json decoded (the key
// missing, repeated, escaped, or spelled in another case, which
// encoding/json also accepts), encoding/json itself answers. found is false
// when the key is absent or null.
func ArrayElements(doc []byte, key string) (elems [][]byte, found bool, err error) {
	if elems, found, ok := scanArray(doc, key); ok {
		return elems, found, nil
	}
	field := reflect.StructField{Name: "V", Type: reflect.TypeFor[*[]json.RawMessage](), Tag: reflect.StructTag(`json:"` + key + `"`)}
	v := reflect.New(reflect.StructOf([]reflect.StructField{field}))
	if err := json.Unmarshal(doc, v.Interface()); err != nil {
		return nil, false, fmt.Errorf("the %q array: %w", key, err)
	}
	raws := v.Elem().Field(0).Interface().(*[]json.RawMessage)
	if raws == nil {
		return nil, false, nil
	}
	out := make([][]byte, len(*raws))
	for i, r := range *raws {
		out[i] = r
	}
	return out, true, nil
}

// KeepRawElements gives each decoded element of the array under key in
// body its raw JSON, through set. A body without the array (absent or null)
// leaves *items nil, as encoding/json would have left it: pages decode into
// presized slices, so decoding alone cannot tell.
func KeepRawElements[T any](body []byte, key string, items **[]T, set func(*T, []byte)) error {
	raws, found, err := ArrayElements(body, key)
	switch {
	case err != nil:
		return err
	case !found:
		*items = nil
		return nil
	case *items == nil:
		return fmt.Errorf("the %q array was not decoded", key)
	case len(raws) != len(**items):
		return fmt.Errorf("%d raw entries for %d decoded ones", len(raws), len(**items))
	}
	for i := range **items {
		set(&(**items)[i], raws[i])
	}
	return nil
}

// scanArray is the fast path of ArrayElements, for valid JSON only; ok
// false when it cannot be sure. The top-level object's members are walked
// as the fast decoders walk them, so it gives way where encoding/json could
// have read key from another member (a name escaped, in another case, or
// repeated), and the array's elements are found as decodeArray finds them.
func scanArray(doc []byte, key string) (elems [][]byte, found, ok bool) {
	_, _, ok = decodeMembers(doc, Names{key}, func(_, i int) (int, bool) {
		if end := validLiteral(doc, i, "null"); end > 0 {
			return end, true // as if absent
		}
		found = true
		n, ok := leadingArray(doc[i:], func(rest []byte) (int, bool) {
			v, ok := Leading(rest)
			elems = append(elems, v)
			return len(v), ok
		})
		return i + n, ok
	})
	if !ok {
		return nil, false, false
	}
	return elems, found, true
}

func skipSpace[T Text](doc T, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}
