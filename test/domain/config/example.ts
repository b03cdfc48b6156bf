const P1 = '5e2211c17a3e5a48f5497de3';
const P2 = '6a1f00aa00bb00cc00dd00ee';

/** The example from the README, verbatim. */
export const example = {
  atlas: {
    baseUrl: 'https://cloud.mongodb.com',
    credentialsSecretId: 'atlas-x509-rotator/atlas-api',
  },
  defaults: {
    monthsUntilExpiration: 3,
    secretNamePrefix: 'atlas-x509/',
    kmsKeyId: 'alias/atlas-x509-rotator',
  },
  locks: { tableName: 'atlas-x509-rotator-locks' },
  projects: [
    {
      projectId: P1,
      users: [
        'app1',
        {
          username: 'reporting',
          monthsUntilExpiration: 12,
          renewBeforeDays: 60,
          secretName: 'reporting/x509',
        },
      ],
    },
    { projectId: P2, discover: true, exclude: ['legacy-batch'] },
  ],
};
