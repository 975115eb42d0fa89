package io.pgha.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made with openssl for the ZooKeeper TLS tests, in {@code dir}: a CA ({@code ca.crt}); the server's
 * {@code server.pem} (key and certificate for 127.0.0.1 in one file, as {@code pgha zookeeper --tls-keystore} takes
 * it); client pairs {@code member} and {@code intruder} signed by that CA; {@code member-enc.key} (the member's key
 * as encrypted PKCS#8, password {@link #KEY_PASSWORD}), {@code member-rsa.key} (PKCS#1), {@code ec.crt}/{@code ec.key}
 * (SEC1 EC) and {@code other-ca.crt}, a CA that signed nothing here.
 */
public final class TestCertificates {
  public static final String KEY_PASSWORD = "s3cret-key";

  private TestCertificates() {}

  public static Path make(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=pgha-test-ca");
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out",
        "other-ca.crt", "-days", "2", "-subj", "/CN=pgha-other-ca");
    Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    for (String name : List.of("server", "member", "intruder")) {
      openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
          "-subj", "/O=pgha/CN=" + name);
      List<String> sign = new ArrayList<>(List.of("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt",
          "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".crt", "-days", "2"));
      if (name.equals("server")) sign.addAll(List.of("-extfile", "server.ext"));
      openssl(dir, sign.toArray(String[]::new));
    }
    Files.writeString(dir.resolve("server.pem"),
        Files.readString(dir.resolve("server.key")) + Files.readString(dir.resolve("server.crt")));
    openssl(dir, "pkcs8", "-topk8", "-in", "member.key", "-out", "member-enc.key", "-passout",
        "pass:" + KEY_PASSWORD);
    openssl(dir, "rsa", "-in", "member.key", "-traditional", "-out", "member-rsa.key");
    openssl(dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key");
    openssl(dir, "req", "-new", "-x509", "-key", "ec.key", "-out", "ec.crt", "-days", "2", "-subj", "/CN=ec");
    return dir;
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
    }
  }
}
