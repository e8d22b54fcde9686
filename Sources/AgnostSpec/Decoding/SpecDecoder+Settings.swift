extension SpecDecoder {
    /// Knative's default `container-concurrency-max-limit`.
    static let maximumContainerConcurrency = 1000

    mutating func decodeEnvironment(_ env: MappingReader) {
        for (key, node) in env.entries {
            let name = validated(key, parse: EnvironmentVariableName.validate)
            let value = value(of: node, label: "'\(key.value)'", as: .string) { $0 }
            if let name, let value {
                spec.env.append(EnvVariable(name: name, value: value.value))
            }
        }
    }

    mutating func decodeScaling(_ scaling: MappingReader) {
        let minimum = value("min", in: scaling, as: .integer) { count throws(ValueError) in
            try IntegerRule.check(count, isAtLeast: 0, subject: "scaling.min")
        }
        let maximum = value("max", in: scaling, as: .integer) { count throws(ValueError) in
            try IntegerRule.check(count, isAtLeast: 1, subject: "scaling.max")
        }
        let concurrency = value("concurrency", in: scaling, as: .integer) { count throws(ValueError) in
            try IntegerRule.check(count, isAtLeast: 0, subject: "scaling.concurrency")
        }
        let timeout = value("timeout", in: scaling, as: .string, parse: ScalingTimeout.validate)
        let target = value("target", in: scaling, as: .integer) { count throws(ValueError) in
            try IntegerRule.check(count, isAtLeast: 1, subject: "scaling.target")
        }
        if let target, let concurrency, concurrency.value > 0, target.value > concurrency.value {
            diagnostics.warning(
                "scaling.target (\(target.value)) is above scaling.concurrency (\(concurrency.value)); a replica "
                    + "never serves more than scaling.concurrency requests, so the autoscaler aims at that instead",
                at: target.location
            )
        }
        if let minimum, let maximum, maximum.value < minimum.value {
            diagnostics.error(
                "scaling.max (\(maximum.value)) must be at least scaling.min (\(minimum.value))",
                at: maximum.location
            )
        }
        if let concurrency, concurrency.value > Self.maximumContainerConcurrency {
            diagnostics.warning(
                "scaling.concurrency \(concurrency.value) is above \(Self.maximumContainerConcurrency), the default "
                    + "container-concurrency-max-limit of Knative; the cluster's config-defaults must allow it, or "
                    + "the Service is rejected",
                at: concurrency.location
            )
        }
        if let timeout, let warning = ScalingTimeout.warning(for: timeout.value) {
            diagnostics.warning(warning, at: timeout.location)
        }
        spec.scaling = ScalingSpec(
            min: minimum?.value ?? 0,
            max: maximum?.value,
            concurrency: concurrency?.value,
            timeout: timeout?.value ?? ScalingSpec().timeout,
            target: target?.value,
            cpu: computeQuantities("cpu", in: scaling),
            memory: computeQuantities("memory", in: scaling)
        )
    }

    /// `scaling.cpu` or `scaling.memory`, with the request checked not to exceed the limit, as Kubernetes requires.
    private mutating func computeQuantities(_ key: String, in scaling: MappingReader) -> ComputeQuantities {
        guard let mapping = mapping(key, in: scaling, schema: .computeQuantities(key)) else {
            return ComputeQuantities()
        }
        let quantities = ["request", "limit"].map { name in
            let subject = "scaling.\(key).\(name)"
            let quantity = value(name, in: mapping, as: .string) { text throws(ValueError) in
                try Quantity.parse(text, subject: subject)
            }
            if key == "memory", let quantity,
                let warning = Quantity.memoryWarning(for: quantity.value, subject: subject)
            {
                diagnostics.warning(warning, at: quantity.location)
            }
            return quantity
        }
        let (request, limit) = (quantities[0], quantities[1])
        if let request, let limit, request.value.amount > limit.value.amount {
            diagnostics.error(
                "scaling.\(key).request (\(request.value.text)) is more than scaling.\(key).limit "
                    + "(\(limit.value.text)); Kubernetes refuses a request above the limit, so lower the request or "
                    + "raise the limit",
                at: request.location
            )
        }
        return ComputeQuantities(request: request?.value.text, limit: limit?.value.text)
    }
}
