"""Accounts and sessions: local accounts (argon2id) by default, Supabase Auth when configured."""
