import { Link, useTitle } from '../router';
import { EmptyState } from '../components/ui';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <EmptyState title="There is no such page in the dashboard.">
      <Link to="/">Go to the messages</Link>
    </EmptyState>
  );
}
