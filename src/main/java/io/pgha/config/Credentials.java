package io.pgha.config;

/** A username and password ({@code postgresql.authentication.*}, {@code restapi.authentication}). */
public record Credentials(String username, String password) {}
