package io.vigil.bench;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * One MiniCluster (one TaskManager with two slots, 256 MB of managed memory for RocksDB) that a
 * suite's jobs run on one after another, so that cluster start-up is paid once per suite rather
 * than once per run. Each job carries its own configuration (state backend, checkpointing, object
 * reuse) in its job graph.
 */
public final class BenchCluster implements AutoCloseable {

  private final MiniCluster mini;

  public BenchCluster() throws Exception {
    Configuration conf = new Configuration();
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(256));
    // Any free port: other processes (and the scale suite's cluster) may hold Flink's default 8081.
    conf.set(RestOptions.BIND_PORT, "0");
    mini = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(2).build());
    mini.start();
  }

  /** A fresh environment for one job at {@code parallelism} with {@code conf}. */
  public static StreamExecutionEnvironment environment(int parallelism, Configuration conf) {
    StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
    env.setParallelism(parallelism);
    return env;
  }

  /** Runs the job built in {@code env} to the end; throws if it fails. */
  public void execute(StreamExecutionEnvironment env, String name) throws Exception {
    JobID job = mini.submitJob(env.getStreamGraph()).get().getJobID();
    JobResult result = mini.requestJobResult(job).get();
    if (!result.isSuccess()) {
      Throwable cause = result.getSerializedThrowable().map(t -> t.deserializeError(getClass().getClassLoader())).orElse(null);
      throw new IllegalStateException("job '" + name + "' failed", cause);
    }
  }

  @Override
  public void close() throws Exception {
    mini.close();
  }
}
