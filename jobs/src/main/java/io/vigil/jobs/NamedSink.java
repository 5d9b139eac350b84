package io.vigil.jobs;

import org.apache.flink.api.connector.sink2.Sink;

/**
 * A sink with a stable identity: {@code id} becomes part of the sink's uid (so it must not change
 * while the job's savepoints matter) and {@code description} its display name.
 */
public record NamedSink<T>(String id, String description, Sink<T> sink) {}
