package io.vigil.jobs.testing;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimitedSourceReader;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A source that behaves exactly like the one it wraps (same splits, enumerator and checkpoints)
 * except that all its readers together emit at most {@code perSecond} records per second, using
 * Flink's own {@link RateLimitedSourceReader}. Tests use it to keep output flowing at a known pace
 * for the whole run, so that an action taken mid-run always meets records in flight.
 */
public final class ThrottledSource<T, S extends SourceSplit, E> implements Source<T, S, E> {

  private static final long serialVersionUID = 1L;

  private final Source<T, S, E> delegate;
  private final double perSecond;

  private ThrottledSource(Source<T, S, E> delegate, double perSecond) {
    this.delegate = delegate;
    this.perSecond = perSecond;
  }

  public static <T, S extends SourceSplit, E> ThrottledSource<T, S, E> of(Source<T, S, E> delegate, double perSecond) {
    return new ThrottledSource<>(delegate, perSecond);
  }

  @Override
  public Boundedness getBoundedness() {
    return delegate.getBoundedness();
  }

  @Override
  public SourceReader<T, S> createReader(SourceReaderContext context) throws Exception {
    RateLimiterStrategy<S> strategy = RateLimiterStrategy.perSecond(perSecond);
    return new RateLimitedSourceReader<>(delegate.createReader(context), strategy.createRateLimiter(context.currentParallelism()));
  }

  @Override
  public SplitEnumerator<S, E> createEnumerator(SplitEnumeratorContext<S> context) throws Exception {
    return delegate.createEnumerator(context);
  }

  @Override
  public SplitEnumerator<S, E> restoreEnumerator(SplitEnumeratorContext<S> context, E checkpoint) throws Exception {
    return delegate.restoreEnumerator(context, checkpoint);
  }

  @Override
  public SimpleVersionedSerializer<S> getSplitSerializer() {
    return delegate.getSplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<E> getEnumeratorCheckpointSerializer() {
    return delegate.getEnumeratorCheckpointSerializer();
  }
}
