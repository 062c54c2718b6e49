package dev.switchboard.lb.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.status.ClusterStatus;
import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is optional: with it removed from the class path, every lb-api class outside the
 * metrics package loads and initializes, and a cluster (with a decision trace, so the per-call hook
 * runs) serves a call and renders its status.
 */
class MicrometerOptionalTest {

  /** Runs inside the Micrometer-free class loader. */
  public static final class UseClusterWithoutMicrometer implements Callable<String> {
    @Override
    public String call() {
      var registry =
          dev.switchboard.lb.StaticRegistry.of(
              dev.switchboard.lb.ServiceInstance.builder("echo", "127.0.0.1", 9001).build());
      try (var cluster =
              dev.switchboard.lb.Cluster.builder("echo")
                  .registry(registry)
                  .listener(dev.switchboard.lb.DecisionTrace.builder().samplePicks(1).build())
                  .build();
          var lease = cluster.acquire()) {
        lease.complete(dev.switchboard.lb.Outcome.SUCCESS);
        return ClusterStatus.of(cluster).json();
      }
    }
  }

  private static URLClassLoader withoutMicrometer() throws IOException {
    String classPath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<URL> urls = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      if (!entry.isEmpty() && !entry.contains("micrometer")) {
        urls.add(Path.of(entry).toUri().toURL());
      }
    }
    return new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
  }

  @Test
  void coreClassesLoadAndRun_withoutMicrometerOnTheClassPath() throws Exception {
    Path mainClasses =
        Path.of(ClusterStatus.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> names;
    try (Stream<Path> files = Files.walk(mainClasses)) {
      names =
          files
              .map(p -> mainClasses.relativize(p).toString().replace(File.separatorChar, '/'))
              .filter(p -> p.endsWith(".class") && !p.endsWith("package-info.class"))
              .map(p -> p.substring(0, p.length() - ".class".length()).replace('/', '.'))
              .toList();
    }
    assertThat(names).contains("dev.switchboard.lb.Cluster", ClusterMetrics.class.getName());

    try (URLClassLoader loader = withoutMicrometer()) {
      // The loader really lacks Micrometer, so the binding itself cannot link...
      assertThatThrownBy(
              () -> Class.forName("io.micrometer.core.instrument.MeterRegistry", false, loader))
          .isInstanceOf(ClassNotFoundException.class);
      assertThatThrownBy(
              () -> Class.forName(ClusterMetrics.class.getName(), true, loader).getMethods())
          .isInstanceOf(NoClassDefFoundError.class);
      // ...while everything else loads, initializes and works.
      for (String name : names) {
        if (!name.startsWith("dev.switchboard.lb.metrics.")) {
          Class<?> c = Class.forName(name, true, loader);
          assertThat(c.getClassLoader()).as(name).isSameAs(loader);
          c.getDeclaredMethods(); // resolves every signature
        }
      }
      @SuppressWarnings("unchecked")
      Callable<String> use =
          (Callable<String>)
              Class.forName(UseClusterWithoutMicrometer.class.getName(), true, loader)
                  .getDeclaredConstructor()
                  .newInstance();
      assertThat(use.call()).contains("\"address\":\"127.0.0.1:9001\"", "\"calls\":1");
    }
  }
}
