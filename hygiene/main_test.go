package hygiene

import (
	"testing"

	"github.com/forkproof/forkproof/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }
