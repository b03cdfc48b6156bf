import { Names } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The prefix of the physical names the construct gives. Derived from the construct path
 * unless given, so that two rotations in one app never collide.
 */
export const namePrefixOf = (scope: Construct, given: string | undefined): string => {
  const namePrefix = given ?? Names.uniqueResourceName(scope, { maxLength: 64, separator: '-' });
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(namePrefix)) {
    throw new Error(`namePrefix "${namePrefix}": use 1-64 letters, digits, "-" or "_"`);
  }
  return namePrefix;
};
