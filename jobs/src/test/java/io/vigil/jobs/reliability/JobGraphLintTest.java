package io.vigil.jobs.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vigil.jobs.VigilJob;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.demo.DemoSource;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.spec.SpecCompiler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 9, job-graph lint: every shipped spec ({@code jobs/specs/*.yaml}) builds, with
 * auto-generated uids and generic types disabled, into a stream graph whose every node has an
 * explicit uid and no Kryo serializer, and into a job graph. Nothing is executed. Two deliberately
 * broken graphs show the lint can fail.
 */
class JobGraphLintTest {

  static Stream<Path> shippedSpecs() throws Exception {
    List<Path> specs = new ArrayList<>();
    try (Stream<Path> files = Files.list(Path.of("specs"))) {
      files.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(specs::add);
    }
    assertThat(specs).as("shipped specs under jobs/specs").isNotEmpty();
    return specs.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("shippedSpecs")
  void everyOperatorOfAShippedJobHasAUidAndNoKryoSerializer(Path specFile) throws Exception {
    CompiledSpec spec = SpecCompiler.compile(specFile);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    // The same connectors as `vigil run`: Kafka when the spec has an input.kafka, else the generator.
    VigilJob job = spec.kafka().isPresent()
        ? new VigilJob(spec, Connectors.kafkaSource(spec, false), Connectors.sinks(spec))
        : new VigilJob(spec, DemoSource.create(spec, Long.MAX_VALUE), Connectors.sinks(spec)).withSourceParallelism(1);
    job.build(env);

    StreamGraph graph = env.getStreamGraph();
    assertThat(graph.getStreamNodes()).as("nodes").hasSizeGreaterThan(4);
    for (StreamNode node : graph.getStreamNodes()) {
      assertThat(node.getTransformationUID()).as("uid of '%s'", node.getOperatorName()).isNotBlank();
      assertThat(serializers(node)).as("serializers of '%s'", node.getOperatorName())
          .noneMatch(s -> s instanceof KryoSerializer);
    }
    assertThat(graph.getStreamNodes().stream().map(StreamNode::getTransformationUID)).as("uids are unique").doesNotHaveDuplicates();
    JobGraph jobGraph = graph.getJobGraph();
    assertThat(jobGraph.getVertices()).isNotEmpty();
  }

  @Test
  void theLintRejectsAnOperatorWithoutAUid() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(lintConfiguration());
    env.fromData(1, 2, 3).uid("numbers").map(i -> i + 1).returns(Integer.class).print().uid("print");
    assertThatThrownBy(env::getStreamGraph).hasMessageContaining("no UID or hash has been assigned to operator Map");
  }

  @Test
  void theLintRejectsAGenericTypeFallback() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(lintConfiguration());
    assertThatThrownBy(() -> {
      env.fromData(new Object(), new Object()).uid("objects").print().uid("print");
      env.getStreamGraph().getJobGraph();
    }).hasStackTraceContaining("Generic types have been disabled");
  }

  private static Configuration lintConfiguration() {
    Configuration conf = new Configuration();
    conf.set(PipelineOptions.AUTO_GENERATE_UIDS, false);
    conf.set(PipelineOptions.GENERIC_TYPES, false);
    return conf;
  }

  private static List<TypeSerializer<?>> serializers(StreamNode node) {
    List<TypeSerializer<?>> all = new ArrayList<>(List.of(node.getTypeSerializersIn()));
    if (node.getTypeSerializerOut() != null) {
      all.add(node.getTypeSerializerOut());
    }
    if (node.getStateKeySerializer() != null) {
      all.add(node.getStateKeySerializer());
    }
    return all;
  }
}
