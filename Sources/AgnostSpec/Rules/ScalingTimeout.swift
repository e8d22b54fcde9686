/// The limits on `scaling.timeout`, Knative's `timeoutSeconds`.
enum ScalingTimeout {
    /// Knative refuses request timeouts above an hour.
    static let maximum = Duration.seconds(3600)
    /// Knative's default `max-revision-timeout-seconds`; longer timeouts need the cluster configured for them.
    static let clusterDefaultMaximum = Duration.seconds(600)

    static func validate(_ text: String) throws(ValueError) -> Duration {
        let timeout = try DurationSyntax.parsePositive(text, subject: "scaling.timeout")
        guard timeout <= maximum else {
            throw ValueError(
                "scaling.timeout '\(text)' is longer than Knative's limit of \(DurationSyntax.format(maximum)) "
                    + "(3600s); lower it"
            )
        }
        return timeout
    }

    /// Why a valid timeout may still be rejected by a cluster with default settings, if it may.
    static func warning(for timeout: Duration) -> String? {
        guard timeout > clusterDefaultMaximum else { return nil }
        return "scaling.timeout \(DurationSyntax.format(timeout)) is longer than 600s, the default "
            + "max-revision-timeout-seconds of Knative; the cluster's config-defaults must allow it, or the "
            + "Service is rejected"
    }
}
