#ifndef CP_PROVIDERS_BEDROCK_H
#define CP_PROVIDERS_BEDROCK_H

/* What `claude-proxy doctor` reads of a Bedrock provider (after start), never a secret. */
struct provider;
struct aws_cred_source;
struct bedrock_profiles;
struct bedrock_facts {
    const char *region, *region_prefix, *runtime_origin, *mantle_origin, *control_origin, *ca_file;
    struct aws_cred_source *creds;
    struct bedrock_profiles *profiles; /* NULL with list_profiles = false or an API key */
    char api_key[96];                  /* with a Bedrock API key: where it came from and its last characters */
};
void provider_bedrock_facts(struct provider *p, struct bedrock_facts *f);

#endif
