package sqlstore

import (
	"testing"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// TestConformance runs the backend conformance kit on every dialect, on
// cloakroom's table and on Django's layout.
func TestConformance(t *testing.T) {
	// The kit's keys are longer than Django's 40 characters: its Django
	// run uses the same layout with a wider key column (TestDjangoTable
	// covers the real one).
	django := DjangoTable
	django.Name, django.KeyLength = "django_session_wide", 255
	layouts := []struct {
		name  string
		table Table
	}{{"default", Table{}}, {"django", django}}
	for _, d := range dialects {
		for _, l := range layouts {
			t.Run(d.String()+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				backendtest.Run(t, testStore(t, d, Options{Table: l.table}))
			})
		}
	}
}
