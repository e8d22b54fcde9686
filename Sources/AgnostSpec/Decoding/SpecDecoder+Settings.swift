extension SpecDecoder {
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
        if let minimum, let maximum, maximum.value < minimum.value {
            diagnostics.error(
                "scaling.max (\(maximum.value)) must be at least scaling.min (\(minimum.value))",
                at: maximum.location
            )
        }
        if let timeout, let warning = ScalingTimeout.warning(for: timeout.value) {
            diagnostics.warning(warning, at: timeout.location)
        }
        spec.scaling = ScalingSpec(
            min: minimum?.value ?? 0,
            max: maximum?.value,
            concurrency: concurrency?.value,
            timeout: timeout?.value ?? ScalingSpec().timeout
        )
    }
}
