//go:build tools

// Blank imports keep the component mains in go.mod and go.sum through `go mod tidy`;
// build.sh builds them by import path.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
)
