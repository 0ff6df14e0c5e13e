/* Start and stop tests/net/fake_openai.py (a real HTTP server on 127.0.0.1)
 * from a cmocka test. Header-only so each test executable gets its own copy. */
#ifndef MERX_TEST_FAKE_OPENAI_H
#define MERX_TEST_FAKE_OPENAI_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct fake_server {
  pid_t pid;
  int port;
} fake_server;

/* Returns 0 and fills s, or -1 when python3 or the server cannot start. */
static int fake_server_start(fake_server *s) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    close(fd[1]);
    execlp("python3", "python3", MERX_SRC_DIR "/tests/net/fake_openai.py", "--idle", "60",
           (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  char line[64] = {0};
  int ok = f && fgets(line, sizeof line, f) != NULL;
  if (f) fclose(f);
  if (!ok || atoi(line) <= 0) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
  }
  s->pid = pid;
  s->port = atoi(line);
  return 0;
}

static void fake_server_stop(fake_server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
  }
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
__attribute__((unused)) static int closed_port(void) {
  int sfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(sfd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(sfd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(sfd);
  return port;
}
#endif
