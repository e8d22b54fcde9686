extension SpecDecoder {
    mutating func decodeEndpoint(_ item: MappingReader) -> DecodedEndpoint? {
        let name = name(of: item, kind: .endpoint, rule: .identifier)
        let method: Located<HTTPMethod>? = value("method", in: item, as: .string) { text throws(ValueError) in
            try Choice.parse(text, subject: "HTTP method")
        }
        let path = value("path", in: item, as: .string, parse: RoutePath.parse)
        let handler = handler(of: item)
        let middlewares = list("middlewares", in: item).compactMap { node in
            value(of: node, label: "each item of 'middlewares'", as: .string) { $0 }
        }
        spec.middlewareReferences.append(middlewares)
        let timeout = value("timeout", in: item, as: .string) { text throws(ValueError) in
            try DurationSyntax.parsePositive(text, subject: "endpoint timeout")
        }
        let apiKey: Located<APIKeyPolicy>? = value("apiKey", in: item, as: .string) { text throws(ValueError) in
            try Choice.parse(text, subject: "apiKey policy")
        }
        let logExecution = value("logExecution", in: item, as: .boolean)
        guard let name, let method, let path, let handler else { return nil }
        let endpoint = EndpointSpec(
            name: name,
            method: method.value,
            path: path.value,
            handler: handler,
            middlewares: middlewares,
            timeout: timeout?.value,
            apiKey: apiKey?.value ?? .none,
            logExecution: logExecution?.value ?? false,
            location: item.location
        )
        return DecodedEndpoint(spec: endpoint, pathLocation: path.location, timeoutLocation: timeout?.location)
    }

    mutating func decodeMiddleware(_ item: MappingReader) -> MiddlewareSpec? {
        let name = name(of: item, kind: .middleware, rule: .identifier)
        let handler = handler(of: item)
        guard let name, let handler else { return nil }
        return MiddlewareSpec(name: name, handler: handler, location: item.location)
    }
}
