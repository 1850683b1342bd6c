/* `claude-proxy doctor [--config FILE] [--probe] [--model M ...] [--json]`: checks the config,
 * each provider's credentials (without spending quota unless --probe) and what the Bedrock
 * fallback would send for Claude Code's models, and says what to fix. */
#ifndef CP_DOCTOR_H
#define CP_DOCTOR_H

/* argv after "doctor". Returns the exit status: 0 when the first provider is usable and the
 * fallback serves Claude Code's default model, 1 otherwise, 2 for a usage error. */
int doctor_main(int argc, char **argv);

#endif
