package io.vigil.cep.engine;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.AggregatingState;
import org.apache.flink.api.common.state.AggregatingStateDescriptor;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReducingState;
import org.apache.flink.api.common.state.ReducingStateDescriptor;
import org.apache.flink.api.common.state.State;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;

/**
 * A keyed state store that prefixes every state name, so that several Flink CEP {@link
 * org.apache.flink.cep.nfa.sharedbuffer.SharedBuffer}s (whose state names are fixed) live side by
 * side in one operator, one per rule version. It records the descriptors it hands out so a rule's
 * state can be dropped for all keys ({@code applyToKeyedState}). Only the value and map states the
 * shared buffer uses are supported.
 */
final class NamespacedStateStore implements KeyedStateStore {

  private final RuntimeContext context;
  private final String prefix;
  private final List<StateDescriptor<?, ?>> created = new ArrayList<>();
  private final List<State> states = new ArrayList<>();

  NamespacedStateStore(RuntimeContext context, String prefix) {
    this.context = context;
    this.prefix = prefix;
  }

  /** Every state handed out so far (for the current key when used). */
  List<State> states() {
    return states;
  }

  /** Every descriptor handed out so far, with its prefixed name. */
  List<StateDescriptor<?, ?>> descriptors() {
    return created;
  }

  @Override
  public <T> ValueState<T> getState(ValueStateDescriptor<T> d) {
    ValueStateDescriptor<T> renamed = new ValueStateDescriptor<>(prefix + d.getName(), d.getSerializer());
    created.add(renamed);
    ValueState<T> state = context.getState(renamed);
    states.add(state);
    return state;
  }

  @Override
  public <UK, UV> MapState<UK, UV> getMapState(MapStateDescriptor<UK, UV> d) {
    MapStateDescriptor<UK, UV> renamed =
        new MapStateDescriptor<>(prefix + d.getName(), d.getKeySerializer(), d.getValueSerializer());
    created.add(renamed);
    MapState<UK, UV> state = context.getMapState(renamed);
    states.add(state);
    return state;
  }

  @Override
  public <T> ListState<T> getListState(ListStateDescriptor<T> d) {
    throw new UnsupportedOperationException("list state");
  }

  @Override
  public <T> ReducingState<T> getReducingState(ReducingStateDescriptor<T> d) {
    throw new UnsupportedOperationException("reducing state");
  }

  @Override
  public <IN, ACC, OUT> AggregatingState<IN, OUT> getAggregatingState(
      AggregatingStateDescriptor<IN, ACC, OUT> d) {
    throw new UnsupportedOperationException("aggregating state");
  }

  @Override
  public <T> org.apache.flink.api.common.state.v2.ValueState<T> getValueState(
      org.apache.flink.api.common.state.v2.ValueStateDescriptor<T> d) {
    throw new UnsupportedOperationException("state v2");
  }

  @Override
  public <T> org.apache.flink.api.common.state.v2.ListState<T> getListState(
      org.apache.flink.api.common.state.v2.ListStateDescriptor<T> d) {
    throw new UnsupportedOperationException("state v2");
  }

  @Override
  public <UK, UV> org.apache.flink.api.common.state.v2.MapState<UK, UV> getMapState(
      org.apache.flink.api.common.state.v2.MapStateDescriptor<UK, UV> d) {
    throw new UnsupportedOperationException("state v2");
  }

  @Override
  public <T> org.apache.flink.api.common.state.v2.ReducingState<T> getReducingState(
      org.apache.flink.api.common.state.v2.ReducingStateDescriptor<T> d) {
    throw new UnsupportedOperationException("state v2");
  }

  @Override
  public <IN, ACC, OUT> org.apache.flink.api.common.state.v2.AggregatingState<IN, OUT> getAggregatingState(
      org.apache.flink.api.common.state.v2.AggregatingStateDescriptor<IN, ACC, OUT> d) {
    throw new UnsupportedOperationException("state v2");
  }

  @Override
  public String getBackendTypeIdentifier() {
    throw new UnsupportedOperationException("backend type");
  }
}
