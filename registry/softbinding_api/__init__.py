"""The C2PA Soft Binding Resolution API (C2PA 2.x, "Soft Binding Resolution API"; the shape of
Adobe's cai-soft-binding-api): find the manifests of registered assets by a watermark or
fingerprint value, or by the content of a file, and serve a manifest store by its id."""
