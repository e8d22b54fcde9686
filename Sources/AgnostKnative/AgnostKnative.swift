/// AgnostKnative turns a bundle and a pushed image into Knative manifests, reads kubeconfig files, talks to the
/// Kubernetes API (server-side apply, watch) and follows a Service until it is ready.
enum AgnostKnative {}
