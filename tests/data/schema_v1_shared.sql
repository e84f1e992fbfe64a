-- The tables of a cross-auth-lite store at schema version 1 (shared connections),
-- as the first release created them. Used to test upgrades.
CREATE TABLE "lite_meta" ("key" TEXT NOT NULL PRIMARY KEY, "value" TEXT NOT NULL);
CREATE TABLE "users" ("id" INTEGER NOT NULL PRIMARY KEY, "email" TEXT, "email_verified" INTEGER NOT NULL, "hashed_password" TEXT);
CREATE UNIQUE INDEX "user_email" ON "users" ("email");
CREATE TABLE "sessions" ("id" INTEGER NOT NULL PRIMARY KEY, "token_hash" TEXT NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "last_active_at" DATETIME, "revoked_at" DATETIME, "client_id" TEXT, "client_name" TEXT, "user_agent" TEXT, "ip" TEXT, "user_id" INTEGER NOT NULL, FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "session_token_hash" ON "sessions" ("token_hash");
CREATE INDEX "session_user_id_updated_at_id" ON "sessions" ("user_id", "updated_at", "id");
CREATE INDEX "session_user_id_created_at_id" ON "sessions" ("user_id", "created_at", "id");
CREATE INDEX "session_user_id_expires_at_id" ON "sessions" ("user_id", "expires_at", "id");
CREATE TABLE "social_accounts" ("id" INTEGER NOT NULL PRIMARY KEY, "provider" TEXT NOT NULL, "provider_user_id" TEXT NOT NULL, "provider_email" TEXT, "provider_email_verified" INTEGER, "is_login_method" INTEGER NOT NULL, "access_token" TEXT, "refresh_token" TEXT, "access_token_expires_at" DATETIME, "refresh_token_expires_at" DATETIME, "scope" TEXT, "user_id" INTEGER NOT NULL, FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE);
CREATE INDEX "socialaccount_user_id" ON "social_accounts" ("user_id");
CREATE UNIQUE INDEX "socialaccount_user_id_provider_provider_user_id" ON "social_accounts" ("user_id", "provider", "provider_user_id");
CREATE UNIQUE INDEX "socialaccount_provider_provider_user_id" ON "social_accounts" ("provider", "provider_user_id") WHERE ("is_login_method" = 1);
