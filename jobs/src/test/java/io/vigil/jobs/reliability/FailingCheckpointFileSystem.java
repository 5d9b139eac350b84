package io.vigil.jobs.reliability;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.local.LocalFileSystem;

/**
 * The local file system under the scheme {@code failing-file://}, which fails the next state file
 * it is asked to create once {@link #failNextStateFile()} armed it. Checkpoint state files are
 * created in the asynchronous part of a checkpoint (after the Kafka sink pre-committed its
 * transaction), while the JobManager's {@code _metadata} is never failed: so an armed failure is a
 * failure in the asynchronous part of exactly one checkpoint, as a flaky object store would cause.
 * The failing write first waits 1.5 s, as a slow store would, so every task of that checkpoint,
 * the Kafka sinks included, has taken its snapshot when the checkpoint fails.
 * Registered for tests by {@code META-INF/services/org.apache.flink.core.fs.FileSystemFactory}.
 */
public final class FailingCheckpointFileSystem extends LocalFileSystem {

  public static final String SCHEME = "failing-file";

  private static final AtomicBoolean ARMED = new AtomicBoolean();
  private static final long PRE_COMMIT_GRACE_MILLIS = 1_500;
  /** How many creates failed in this JVM; tests assert it so they cannot pass vacuously. */
  public static final AtomicInteger FAILURES = new AtomicInteger();

  /** Fails the next state file created (not checkpoint metadata), once. */
  public static void failNextStateFile() {
    ARMED.set(true);
  }

  public static void reset() {
    ARMED.set(false);
    FAILURES.set(0);
  }

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public FSDataOutputStream create(Path path, WriteMode overwrite) throws IOException {
    if (!path.getName().equals("_metadata") && ARMED.compareAndSet(true, false)) {
      // The first state file of a checkpoint is often the source's, written before the barrier
      // reaches the Kafka sinks; failing at once would cancel them before they pre-commit, leaving
      // no transaction of this checkpoint open. Holding the write lets every sink pre-commit first.
      try {
        Thread.sleep(PRE_COMMIT_GRACE_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      FAILURES.incrementAndGet();
      throw new IOException("injected failure writing checkpoint state file " + path);
    }
    return super.create(path, overwrite);
  }

  /** Service-loaded factory of {@link FailingCheckpointFileSystem}. */
  public static final class Factory implements FileSystemFactory {
    private static final FailingCheckpointFileSystem INSTANCE = new FailingCheckpointFileSystem();

    @Override
    public String getScheme() {
      return SCHEME;
    }

    @Override
    public FileSystem create(URI fsUri) {
      return INSTANCE;
    }
  }
}
