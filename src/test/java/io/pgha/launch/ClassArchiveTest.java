package io.pgha.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The class-data archive's inputs: the class list in the jar, and the name bin/pgha looks for. */
class ClassArchiveTest {

  @Test
  void theClassListStillNamesThisCodesClasses() throws Exception {
    String list;
    try (InputStream in = ClassArchive.class.getResourceAsStream(ClassArchive.CLASS_LIST)) {
      list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<String> ours = list.lines().filter(l -> l.startsWith("io/pgha/")).map(l -> l.split(" ")[0]).toList();
    long found = ours.stream().filter(ClassArchiveTest::loadable).count();

    assertThat(ours).hasSizeGreaterThan(150).contains("io/pgha/agent/Agent", "io/pgha/ha/HaLoop");
    // renamed or removed classes only cost start-up time; past a tenth, regenerate the list (ClassArchive's javadoc)
    assertThat(found).as("classes of the list that still exist").isGreaterThan(ours.size() * 9 / 10);
  }

  @Test
  void theArchiveIsNamedAfterTheJarsSizeAndMtimeAsBinPghaNamesIt(@TempDir Path dir) throws Exception {
    Path jar = Files.write(dir.resolve("pgha.jar"), new byte[1234]);
    Files.setLastModifiedTime(jar, FileTime.fromMillis(1_796_514_248_500L));

    assertThat(ClassArchive.archiveFor(jar, dir)).isEqualTo(dir.resolve("pgha-1234-1796514248.jsa"));
    assertThat(ClassArchive.existing(jar)).isEmpty();
    assertThat(Files.readString(Path.of("bin/pgha"))).contains("/pgha-$(stat -c %s-%Y \"$PGHA_JAR\").jsa");
  }

  @Test
  void binPghaMapsTheArchiveWithTheFlagsTheTestsAgentsGet() throws Exception {
    String script = Files.readString(Path.of("bin/pgha"));
    String line = script.lines().filter(l -> l.trim().startsWith("cds_flags=(\"")).findFirst().orElseThrow();
    List<String> flags = List.of(line.substring(line.indexOf('(') + 1, line.lastIndexOf(')')).split(" "));

    assertThat(flags.stream().map(f -> f.replaceAll("^['\"]|['\"]$", "")).toList())
        .containsExactlyElementsOf(ClassArchive.flags(Path.of("$cds_archive")));
  }

  private static boolean loadable(String internalName) {
    try {
      Class.forName(internalName.replace('/', '.'), false, ClassArchiveTest.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
