#include <cstdio>

int main(int, char**) {
  std::puts("vigil 0.1.0");
  return 0;
}
