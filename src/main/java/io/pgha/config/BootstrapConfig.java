package io.pgha.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * {@code bootstrap} section.
 *
 * @param dcs the {@code bootstrap.dcs} tree written to the {@code config} znode by the bootstrap winner (never null;
 *     empty when absent)
 * @param initdbArgs {@code bootstrap.initdb} already turned into initdb arguments ({@code --encoding=UTF8},
 *     {@code --data-checksums})
 * @param pgHba {@code bootstrap.pg_hba} lines appended to initdb's pg_hba.conf
 * @param postBootstrap {@code bootstrap.post_bootstrap} (alias {@code post_init}), or null
 * @param present whether the YAML had a {@code bootstrap} section at all (a node without one never bootstraps)
 */
public record BootstrapConfig(
    ObjectNode dcs, List<String> initdbArgs, List<String> pgHba, String postBootstrap, boolean present) {}
