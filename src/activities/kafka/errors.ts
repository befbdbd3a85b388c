import { AppError } from '../../shared/errors.js';

const name = (err: unknown): string => (err instanceof Error ? err.name : '');

/** A Kafka failure as a step error: refused credentials or authorisation are not retried; a cluster that is down or slow is. */
export function kafkaError(err: unknown, signal: AbortSignal): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (signal.aborted)
    return new AppError({
      code: 'KAFKA_TIMEOUT',
      message: 'the Kafka cluster did not answer in time',
      retryable: true,
    });
  const type = typeof err === 'object' && err !== null ? Reflect.get(err, 'type') : undefined;
  if (name(err) === 'KafkaJSSASLAuthenticationError' || type === 'SASL_AUTHENTICATION_FAILED') {
    return new AppError({
      code: 'KAFKA_AUTH_FAILED',
      message: `the Kafka cluster refused the credentials: ${message}`,
      httpStatus: 400,
    });
  }
  if (typeof type === 'string' && /AUTHORIZATION_FAILED$/.test(type))
    return new AppError({ code: 'KAFKA_NOT_AUTHORIZED', message, httpStatus: 400 });
  if (type === 'INVALID_TOPIC_EXCEPTION' || type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE')
    return new AppError({ code: 'KAFKA_REJECTED', message, httpStatus: 400 });
  return new AppError({
    code: 'KAFKA_UNAVAILABLE',
    message: `the Kafka cluster could not be used: ${message}`,
    retryable: true,
  });
}
