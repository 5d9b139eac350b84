package io.vigil.jobs.nab;

/**
 * A NAB application profile: the weights of its cost matrix ({@code config/profiles.json}).
 *
 * @param name profile name as NAB spells it ({@code standard}, {@code reward_low_FP_rate}, {@code
 *     reward_low_FN_rate})
 * @param tpWeight A_TP, the reward of the earliest detection in a window (scaled)
 * @param fpWeight A_FP, the cost of a detection outside every window (scaled)
 * @param fnWeight A_FN, the cost of a window with no detection
 */
public record NabProfile(String name, double tpWeight, double fpWeight, double fnWeight) {}
