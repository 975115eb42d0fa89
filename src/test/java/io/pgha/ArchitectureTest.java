package io.pgha;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package boundaries (issue 10): the pure core {@code io.pgha.decision} does no I/O and knows no framework,
 * and the top-level packages {@code io.pgha.*} form no cycle. The two rules are written once as functions of a
 * root package and are also run against fixtures in {@code io.pgha.archfixture} (test code only), so that a
 * real violation is shown to make them fail: a green run here is not a rule that can never fail.
 */
class ArchitectureTest {

  /** What the pure core must not depend on. */
  static final String[] FORBIDDEN_IN_CORE = {
      "io.vertx..", "org.apache.zookeeper..", "org.apache.curator..", "com.fasterxml.jackson..",
      "java.io..", "java.net..", "java.nio.."};

  private static JavaClasses production;
  private static JavaClasses fixtures;

  @BeforeAll
  static void importClasses() {
    production = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.pgha");
    fixtures = new ClassFileImporter().importPackages("io.pgha.archfixture");
  }

  /** The core package {@code corePackage} (and its subpackages) depends on nothing in {@link #FORBIDDEN_IN_CORE}. */
  static ArchRule coreIsPure(String corePackage) {
    return noClasses().that().resideInAPackage(corePackage + "..")
        .should().dependOnClassesThat().resideInAnyPackage(FORBIDDEN_IN_CORE)
        .because("the decision core is pure: records in, records out, no I/O and no framework");
  }

  /** No cycles between the packages directly below {@code root}. */
  static ArchRule noCyclesBelow(String root) {
    return slices().matching(root + ".(*)..").should().beFreeOfCycles();
  }

  /** The HA driver (the package itself, not {@code ha.vertx} or {@code ha.port}'s adapters) has no Vert.x. */
  static ArchRule driverIsVertxFree(String driverPackage) {
    return noClasses().that().resideInAPackage(driverPackage)
        .should().dependOnClassesThat().resideInAnyPackage("io.vertx..")
        .because("the HA loop is a plain driver; Vert.x stays in its adapters (design of issue 10)");
  }

  @Test

  void haDriverHasNoVertx() {
    driverIsVertxFree("io.pgha.ha").check(production);
  }

  @Test
  void decisionDependsOnNoFrameworkAndNoIo() {
    coreIsPure("io.pgha.decision").check(production);
  }

  @Test
  void topLevelPackagesFormNoCycle() {
    noCyclesBelow("io.pgha").check(production);
  }

  @Test
  void theCoreRuleFailsOnARealImport() {
    assertThat(coreIsPure("io.pgha.archfixture.clean").evaluate(fixtures).hasViolation()).isFalse();
    EvaluationResult dirty = coreIsPure("io.pgha.archfixture.dirty").evaluate(fixtures);
    assertThat(dirty.hasViolation()).isTrue();
    assertThat(dirty.getFailureReport().toString()).contains("java.io.File", "java.net.URI");
  }

  @Test
  void theCycleRuleFailsOnACycle() {
    EvaluationResult cyclic = noCyclesBelow("io.pgha.archfixture.cyclic").evaluate(fixtures);
    assertThat(cyclic.hasViolation()).isTrue();
    assertThat(noCyclesBelow("io.pgha.archfixture.acyclic").evaluate(fixtures).hasViolation()).isFalse();
  }
}
