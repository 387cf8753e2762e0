// The IAM policies of storage-backends.md that the tests put in front of the bucket, for IamGateway.
import type { IamPolicy } from "./iam-gateway";

/** storage-backends.md, "IAM Policy". */
export const FULL: IamPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "mlforgeFeatureStoreAccess",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
      Resource: ["arn:aws:s3:::mlforge-features", "arn:aws:s3:::mlforge-features/*"],
    },
  ],
};

/** storage-backends.md, "Read-Only Access". */
export const READ_ONLY: IamPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "mlforgeFeatureStoreReadOnly",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:ListBucket"],
      Resource: ["arn:aws:s3:::mlforge-features", "arn:aws:s3:::mlforge-features/*"],
    },
  ],
};

/** storage-backends.md, "Write-Only Access". */
export const WRITE_ONLY: IamPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "mlforgeFeatureStoreWriteOnly",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:ListBucket"],
      Resource: ["arn:aws:s3:::mlforge-features", "arn:aws:s3:::mlforge-features/*"],
    },
  ],
};

/** FULL without s3:DeleteObject: everything works but removing old versions (retention). */
export const NO_DELETE: IamPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "mlforgeFeatureStoreNoDelete",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
      Resource: ["arn:aws:s3:::mlforge-features", "arn:aws:s3:::mlforge-features/*"],
    },
  ],
};
