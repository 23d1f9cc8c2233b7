package token

import (
	"reflect"
	"strings"
	"testing"
)

// TestFieldTables holds the hand-written field tables and slot methods
// that the decoder reads to the structs' json tags, which encoding/json
// (on the server) still reads: a field added to a struct must be added to
// its table and slot method too, or this test fails.
func TestFieldTables(t *testing.T) {
	infos := map[reflect.Type]*structInfo{
		reflect.TypeFor[Header]():          &headerInfo,
		reflect.TypeFor[Claims]():          &claimsInfo,
		reflect.TypeFor[Grants]():          &grantsInfo,
		reflect.TypeFor[VideoGrant]():      &videoInfo,
		reflect.TypeFor[ChatGrant]():       &chatInfo,
		reflect.TypeFor[SyncGrant]():       &syncInfo,
		reflect.TypeFor[VoiceGrant]():      &voiceInfo,
		reflect.TypeFor[VoiceIncoming]():   &incomingInfo,
		reflect.TypeFor[VoiceOutgoing]():   &outgoingInfo,
		reflect.TypeFor[TaskRouterGrant](): &taskRouterInfo,
		reflect.TypeFor[RTCGrant]():        &rtcInfo,
	}
	for typ, info := range infos {
		t.Run(typ.Name(), func(t *testing.T) {
			wantName := typ.Name()
			if typ == reflect.TypeFor[Header]() || typ == reflect.TypeFor[Claims]() {
				wantName = "plain" // as encoding/json's messages named them
			}
			if info.name != wantName {
				t.Errorf("table name %q, want %q", info.name, wantName)
			}
			ptr := reflect.New(typ)
			obj := ptr.Interface().(decodable)
			var names []string
			for i := range typ.NumField() {
				sf := typ.Field(i)
				name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
				if name == "-" || !sf.IsExported() {
					if obj.slot(sf.Name) != nil {
						t.Errorf("slot(%q) is not nil for a field JSON never holds", sf.Name)
					}
					continue
				}
				names = append(names, name)
				fi := info.index(name)
				if fi < 0 {
					t.Errorf("field %s (json %q) is missing from the table", sf.Name, name)
					continue
				}
				sub := info.fields[fi].sub
				field := ptr.Elem().Field(i)
				slot := obj.slot(name)
				if n, ok := slot.(nested); ok {
					if sf.Type.Kind() != reflect.Pointer || sf.Type.Elem().Kind() != reflect.Struct {
						t.Errorf("slot(%q) is nested but the field is a %v", name, sf.Type)
						continue
					}
					if sub != infos[sf.Type.Elem()] {
						t.Errorf("field %q: table's sub is %v, want the table of %v", name, sub, sf.Type.Elem())
					}
					opened := n.open()
					if field.IsNil() || field.Interface() != any(opened) {
						t.Errorf("slot(%q).open() did not fill the field", name)
					}
					n.clear()
					if !field.IsNil() {
						t.Errorf("slot(%q).clear() did not empty the field", name)
					}
					continue
				}
				if sub != nil {
					t.Errorf("field %q has a sub table but is a %v", name, sf.Type)
				}
				if slot == nil || reflect.ValueOf(slot).Pointer() != field.Addr().Pointer() || reflect.TypeOf(slot).Elem() != sf.Type {
					t.Errorf("slot(%q) = %T, want a pointer to field %s", name, slot, sf.Name)
				}
			}
			var tableNames []string
			for _, f := range info.fields {
				tableNames = append(tableNames, f.name)
			}
			if !reflect.DeepEqual(tableNames, names) {
				t.Errorf("table fields %v, want the json tags in declaration order %v", tableNames, names)
			}
			if obj.slot("no_such_field") != nil {
				t.Errorf("slot of an unknown key is not nil")
			}
		})
	}
}
