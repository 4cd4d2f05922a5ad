-- @app/otp: the tables of prismaOtpStore on sqlite (prisma/schema.prisma's models rewritten by @app/prisma-schema:
-- `app-prisma sql --provider sqlite otp`). OtpSendWindow.hits is a JSON array of epoch-ms numbers here.
CREATE TABLE "app_otp_challenges" (
  "key" TEXT NOT NULL,
  "challenge_id" TEXT NOT NULL,
  "code_hash" TEXT NOT NULL,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "max_attempts" INTEGER NOT NULL,
  "expires_at" DATETIME NOT NULL,
  "last_sent_at" DATETIME NOT NULL,
  "consumed_at" DATETIME,
  CONSTRAINT "app_otp_challenges_pkey" PRIMARY KEY ("key")
);

CREATE UNIQUE INDEX "app_otp_challenges_challenge_id_key" ON "app_otp_challenges"("challenge_id");

CREATE INDEX "app_otp_challenges_expires_at_idx" ON "app_otp_challenges"("expires_at");

CREATE TABLE "app_otp_send_windows" (
  "key" TEXT NOT NULL,
  "hits" JSONB NOT NULL,
  "expires_at" DATETIME NOT NULL,
  CONSTRAINT "app_otp_send_windows_pkey" PRIMARY KEY ("key")
);

CREATE INDEX "app_otp_send_windows_expires_at_idx" ON "app_otp_send_windows"("expires_at");
