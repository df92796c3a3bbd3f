module github.com/dokv/dokv

go 1.24

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/anishathalye/porcupine v1.3.1
	github.com/coder/websocket v1.8.14
	github.com/google/uuid v1.6.0
	github.com/stretchr/testify v1.12.1
	github.com/syumai/workers v0.27.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
